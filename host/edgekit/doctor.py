"""What this machine has and lacks for each board, and the command that fixes each gap."""
from __future__ import annotations

import importlib.util
import shutil

from edgekit.catalog import Board
from edgekit.checks import Check, apt_fix

# Python packages the pipeline needs, with the stage that needs them.
PYTHON_PACKAGES = {
    "numpy": "everything", "cffi": "compile (host module)", "serial": "twin/flash links (pyserial)",
    "tensorflow": "train, quantize", "ai_edge_litert": "sim drive, quantize report",
    "tflite_micro": "verify (TFLM golden)", "tflite": "compile (.tflite reader)",
    "imgtool": "flash (image signing)", "smpclient": "flash (SMP)", "cbor2": "flash (SMP)",
    "platformio": "build", "rich": "CLI", "pydantic": "board/rig schemas",
}
BOOTSTRAP = "make bootstrap  (or: scripts/bootstrap.sh)"


def check_python() -> list[Check]:
    out = []
    for mod, why in PYTHON_PACKAGES.items():
        found = importlib.util.find_spec(mod) is not None
        out.append(Check(f"python:{mod}", found, why, "" if found else BOOTSTRAP))
    return out


def check_board(board: Board) -> list[Check]:
    checks = []
    tc = board.toolchain
    for tool in (tc.cc, tc.size):
        path = shutil.which(tool)
        checks.append(Check(f"{board.name}:toolchain:{tool}", path is not None, path or "not on PATH",
                            "" if path else apt_fix(tc.debian_packages)))
    if board.twin.kind != "native":
        exe = board.twin.command[0]
        path = shutil.which(exe)
        checks.append(Check(f"{board.name}:twin:{exe}", path is not None, path or "not on PATH",
                            "" if path else apt_fix(board.twin.debian_packages)))
    checks.append(firmware_check(board))
    if board.accelerator is not None:   # backend, vendor library, compilers: edgekit.accel
        from edgekit.accel.backends import doctor_checks
        checks += doctor_checks(board)
    if board.bsp == "linux":   # the car computer: camera, I2C, the VM twin's tools (edgekit.car.doctor)
        from edgekit.car.doctor import car_checks
        checks += car_checks(board)
    return checks


def has_firmware(board: Board) -> bool:
    """What `edgekit build` accepts (edgekit.firmware.build): the mps2 and linux BSPs. Its PlatformIO
    environment is generated from the board's YAML, so every such board, built-in or not, has one."""
    return board.bsp in ("mps2", "linux")


def firmware_check(board: Board) -> Check:
    if not has_firmware(board):
        return Check(f"{board.name}:firmware", True, f"no firmware image (bsp {board.bsp}): compile, verify and "
                     "bench run natively; edgekit build refuses this board", needed=False)
    detail = f"edgekit build makes a {board.bsp} image (PlatformIO env generated from {board.name}.yaml)"
    if board.accelerator is not None and board.bsp == "linux":
        detail += f"; the model runs on the CPU ({board.accelerator.name} path not in the firmware)"
    return Check(f"{board.name}:firmware", True, detail)


def buildable(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if c.needed)
