"""SCons build script of the edgekit dev-platform: the car app + one BSP + a generated model.

Inputs (environment variables set by edgekit.firmware.pio): EK_MODEL_DIR (output of
`edgekit compile`: ek_model.h, model.c, runtime/), EK_CONFIG_DIR (ek_app_config.h: quantization
of the model's input/outputs), EK_FLASH_ORIGIN (mps2 only; default 0x0), EK_WITH_MGMT=1 to link
the SMP server of firmware/mgmt/ (with ek_layout.h generated from the board's flash.layout).
Compiler, flags and flash layout come from the board catalogue (boards/*.yaml), whose name is the
PlatformIO environment name (edgekit.firmware.pio generates the project file).
"""
import os
from pathlib import Path

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

from edgekit.catalog import get_board

env = DefaultEnvironment()
board = get_board(env["PIOENV"])
tc = board.toolchain
firmware = Path(env.subst("$PROJECT_DIR"))
model_dir = Path(os.environ["EK_MODEL_DIR"]).resolve()
config_dir = Path(os.environ["EK_CONFIG_DIR"]).resolve()
prefix = tc.cc[: -len("gcc")]


env.Replace(
    CC=tc.cc, AS=tc.cc, AR=prefix + "ar", RANLIB=prefix + "ranlib", LINK=tc.cc,
    OBJCOPY=prefix + "objcopy", SIZETOOL=tc.size, PROGSUFFIX=".elf", PROGNAME="firmware",
)
headers = {p.parent for p in model_dir.rglob("*.h")}
env.Append(
    CCFLAGS=list(tc.cflags) + ["-Wall", "-Wno-comment", "-g"],
    ASFLAGS=list(tc.cflags),
    CPPDEFINES=[("EK_BOARD_NAME", '\\"%s\\"' % board.name)],
    CPPPATH=[str(firmware / "app"), str(firmware / "mgmt"), str(config_dir), str(model_dir)]
    + sorted(str(h) for h in headers),
    LINKFLAGS=list(tc.cflags) + list(tc.ldflags),
    LIBS=["m"],
)
bsp = firmware / "bsp" / board.bsp
if board.bsp == "mps2":
    # The image's FLASH region: all code memory for -kernel (origin 0x0), else what a slot of the
    # board's flash.layout leaves after the MCUboot header and the trailer.
    origin = os.environ.get("EK_FLASH_ORIGIN", "0x0")
    lay = board.flash.layout
    slot_starts = [b + lay.header_bytes for b in lay.slots] if lay else []
    if int(origin, 0) in slot_starts:
        length = hex(lay.image_max - lay.header_bytes)
    else:
        length = hex(board.twin.flash_bytes or (lay.end if lay else board.memory.flash_bytes))
    env.Append(
        LINKFLAGS=["-nostartfiles", "-T", str(bsp / "mps2.ld"),
                   "-Wl,--defsym=EK_FLASH_ORIGIN=%s" % origin, "-Wl,--defsym=EK_FLASH_LENGTH=%s" % length,
                   "-Wl,-Map,${BUILD_DIR}/firmware.map"],
    )

env.BuildSources("$BUILD_DIR/bsp", str(bsp))
env.BuildSources("$BUILD_DIR/model", str(model_dir), "+<*.c> +<runtime/**/*.c> -<runtime/tools/> -<**/test*>")
if os.environ.get("EK_WITH_MGMT") == "1":
    from edgekit.flash.build import layout_dir

    env.Append(CPPDEFINES=["EK_WITH_MGMT"], CPPPATH=[str(layout_dir(board)), str(firmware / "bsp" / "mps2")])
    env.BuildSources("$BUILD_DIR/mgmt", str(firmware / "mgmt"))
    # The SMP server checks hash, key hash and Ed25519 signature itself (Monocypher, fetched by
    # edgekit.flash.build.monocypher_dir into EK_MONOCYPHER_DIR), not only the bootloader.
    monocypher = os.environ["EK_MONOCYPHER_DIR"]
    env.Append(CPPPATH=[str(firmware / "crypto"), monocypher])
    env.BuildSources("$BUILD_DIR/crypto", str(firmware / "crypto"), "+<ek_sha256.c> +<ek_sha512.c> +<ek_ed25519.c>")
    env.BuildSources("$BUILD_DIR/monocypher", monocypher, "+<monocypher.c>")

program = env.BuildProgram()
image = env.Command("$BUILD_DIR/firmware.bin", program, "$OBJCOPY -O binary $SOURCE $TARGET")
size = env.Alias("ek_size", program, "$SIZETOOL -A -d $SOURCE > ${BUILD_DIR}/firmware.size")
AlwaysBuild(size)
Default([program, image, size])
