"""The board catalogue: one YAML per board in boards/, plus the user's own boards.

Users add boards as YAML files in a folder named by `EDGEKIT_BOARDS` (or `--boards-dir DIR`);
they are validated by the same schema. A bad file is a one-line `UserError` naming file and field.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edgekit.errors import UserError
from edgekit.paths import BOARDS
from edgekit.yamlfile import load_validated


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Cpu(_Strict):
    core: str = Field(description="e.g. cortex-m7, cortex-a53, x86-64")
    cores: int = Field(ge=1)
    clock_mhz: float = Field(gt=0)
    isa: str = Field(description="e.g. armv7e-m, armv8-a, x86-64")
    features: list[str] = Field(description="ISA features the kernels may use: dsp, dotprod, neon, avx2, …")


class Memory(_Strict):
    ram_bytes: int = Field(gt=0, description="RAM available to the model arena and the app")
    flash_bytes: int = Field(gt=0, description="storage for the firmware image and weights")


class Toolchain(_Strict):
    triple: str = Field(description="GNU triple, e.g. arm-none-eabi; 'native' for the host")
    cc: str
    size: str = Field(description="the binutils `size` matching cc")
    cflags: list[str]
    ldflags: list[str] = []
    debian_packages: list[str] = Field(description="Debian packages that provide the toolchain")

    @field_validator("cflags", "ldflags")
    @classmethod
    def _no_split_passthrough(cls, flags: list[str]) -> list[str]:
        # An unquoted `-Wl,--gc-sections` in a YAML flow list splits at the comma.
        bad = [f for f in flags if f in ("-Wl", "-Wa", "-Xlinker")]
        if bad:
            raise ValueError(f"{bad[0]!r} stands alone: quote flags holding a comma, e.g. \"-Wl,--gc-sections\"")
        return flags


class Accelerator(_Strict):
    name: str
    peak_tops: float = Field(gt=0)
    watts: float = Field(gt=0, description="typical power at load")
    interface: str = Field(description="on-chip, PCIe, USB, …")
    vendor_library: str | None = Field(description="shared library the host backend loads, e.g. libedgetpu.so.1")
    param_cache_bytes: int | None = None
    backend: Literal["edgetpu", "hailo"] | None = Field(
        default=None, description="edgekit backend that drives it; the board's default backend (else cpu)")
    link: Literal["usb3", "usb2", "pcie-gen2-x1", "pcie-gen3-x1"] | None = Field(
        default=None, description="host<->accelerator link for the latency model (edgekit.accel.latency.LINKS)")
    driver: str | None = Field(default=None, description="what drives it when no host library does, e.g. the coralmicro SDK")


class Power(_Strict):
    idle_w: float = Field(ge=0)
    active_w: float = Field(gt=0, description="CPU at full load running inference")


class Region(_Strict):
    base: int = Field(ge=0)
    size: int = Field(gt=0)


class FlashLayout(_Strict):
    """The flash map of an MCUboot board: the one home of these addresses. The C header
    (ek_layout.h), the linker symbols and the host's slot constants are generated from it."""
    bootloader: Region
    slots: list[int] = Field(min_length=2, max_length=2, description="base address of slot 0 and slot 1")
    slot_size: int = Field(gt=0)
    storage: Region
    end: int = Field(gt=0, description="end of code memory (exclusive)")
    trailer_bytes: int = Field(gt=0, description="the last sector of a slot: swap state, never image data")
    header_bytes: int = Field(gt=0, description="MCUboot image header; the image's vector table follows")

    @model_validator(mode="after")
    def _regions_in_order(self):
        spans = [(self.bootloader.base, self.bootloader.size, "bootloader")]
        spans += [(b, self.slot_size, f"slot {i}") for i, b in enumerate(self.slots)]
        spans += [(self.storage.base, self.storage.size, "storage")]
        spans.sort()
        for (b0, s0, n0), (b1, _, n1) in zip(spans, spans[1:]):
            if b0 + s0 > b1:
                raise ValueError(f"{n0} (0x{b0:x} + 0x{s0:x}) overlaps {n1} at 0x{b1:x}")
        if spans[-1][0] + spans[-1][1] > self.end:
            raise ValueError(f"{spans[-1][2]} ends past 'end' 0x{self.end:x}")
        if self.header_bytes + self.trailer_bytes >= self.slot_size:
            raise ValueError("header and trailer leave no room for an image in a slot")
        return self

    @property
    def image_max(self) -> int:
        return self.slot_size - self.trailer_bytes


class Flash(_Strict):
    method: Literal["mcuboot-smp", "slot-folders", "native"]
    layout: FlashLayout | None = Field(default=None, description="flash map (mcuboot-smp boards)")

    @model_validator(mode="after")
    def _layout_for_mcuboot(self):
        if self.method == "mcuboot-smp" and self.layout is None:
            raise ValueError("an mcuboot-smp board needs 'layout' (bootloader, slots, slot_size, storage, ...)")
        return self

    @property
    def slot_bytes(self) -> int | None:
        """Size of one image slot (from the layout)."""
        return self.layout.slot_size if self.layout else None


class Twin(_Strict):
    kind: Literal["qemu-system-arm", "qemu-aarch64", "native"]
    machine: str | None = Field(default=None, description="QEMU machine, e.g. mps2-an500")
    command: list[str] = Field(description="the emulator command line; {image} and {port} are filled in")
    clock_mhz: float | None = Field(default=None, gt=0, description="the twin's own clock, if it differs")
    ram_bytes: int | None = Field(default=None, gt=0)
    flash_bytes: int | None = Field(default=None, gt=0)
    debian_packages: list[str] = []


class Source(_Strict):
    figure: str
    source: str


class Board(_Strict):
    name: str
    title: str
    cpu: Cpu
    memory: Memory
    toolchain: Toolchain
    accelerator: Accelerator | None
    power: Power
    flash: Flash
    twin: Twin
    bsp: Literal["mps2", "linux", "host"] = Field(description="firmware board-support family")
    sources: list[Source] = Field(min_length=1)
    path: str | None = Field(default=None, description="file this board was read from (filled in)")


def load_board_file(path: Path) -> Board:
    board = load_validated(path, Board, "board")
    if board.name != path.stem:
        raise UserError(f"{path}: field 'name': {board.name!r} must match the file name {path.stem!r}")
    return board


def board_dirs(extra: str | os.PathLike | None = None) -> list[Path]:
    dirs = [BOARDS]
    for d in (os.environ.get("EDGEKIT_BOARDS"), extra):
        if d:
            p = Path(d)
            if not p.is_dir():
                raise UserError(f"boards folder {p} does not exist")
            dirs.append(p)
    return dirs


def load_boards(extra: str | os.PathLike | None = None) -> dict[str, Board]:
    """All boards, built-in first; a user board may not silently shadow a built-in one."""
    boards: dict[str, Board] = {}
    for d in board_dirs(extra):
        for path in sorted(d.glob("*.y*ml")):
            board = load_board_file(path)
            if board.name in boards:
                raise UserError(f"{path}: field 'name': board {board.name!r} is already defined in {boards[board.name].path}")
            boards[board.name] = board
    return boards


def get_board(name: str, extra: str | os.PathLike | None = None) -> Board:
    boards = load_boards(extra)
    if name not in boards:
        raise UserError(f"unknown board {name!r}; known boards: {', '.join(sorted(boards))}")
    return boards[name]
