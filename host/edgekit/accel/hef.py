"""What the Hailo segment needs on each side of Hailo's Dataflow Compiler (DFC).

- `export_for_dfc`: the files the DFC takes for the accelerated segment (the .tflite, the start
  and end tensors of the segment, the target hw-arch, the commands). The DFC itself is Hailo's
  (developer-zone download, x86-64 Linux), not installable here.
- `write_twin_hef`: the edgekit container the libhailort twin runs in place of a real HEF (it names
  a host build of the segment's generated C); never a real HEF, and refused by real HailoRT.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

HEF_MAGIC = (0x01484546).to_bytes(4, "little")   # a real HEF's first bytes (SOURCES §10)


def _vstream_name(name: str, i: int, kind: str) -> str:
    name = re.sub(r"\s+", "_", name)[:120]
    return name or f"{kind}{i}"


def write_twin_hef(seg_dir, out: Path) -> Path:
    """Build the segment's C as a host library and write the twin container naming it."""
    from edgekit.runtime import build_shared
    seg_dir = Path(seg_dir)
    rep = json.loads((seg_dir / "report.json").read_text())
    lib = build_shared(seg_dir, ["-march=native"])
    lines = ["EKHEF1", f"lib {lib.resolve()}"]
    for kind in ("input", "output"):
        lines += [f"{kind} {_vstream_name(r['name'], i, kind)} {r['bytes']} {float(r['scale'])!r} {int(r['zero_point'])}"
                  for i, r in enumerate(rep[kind + "s"])]
    out.write_text("\n".join(lines) + "\n")
    return out


def is_real_hef(path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == HEF_MAGIC


def export_for_dfc(tflite_path, seg: dict, out_dir: Path, hw_arch: str = "hailo8l") -> Path:
    """Write out_dir/dfc/: the model, segment.json, and README.txt with the DFC commands."""
    d = Path(out_dir) / "dfc"
    d.mkdir(parents=True, exist_ok=True)
    model = d / Path(tflite_path).name
    shutil.copyfile(tflite_path, model)
    starts = [t["name"] for t in seg["inputs"]]
    ends = [t["name"] for t in seg["outputs"]]
    (d / "segment.json").write_text(json.dumps({
        "hw_arch": hw_arch, "model": model.name, "ops": seg["ops"], "start_tensors": starts, "end_tensors": ends,
        "inputs": seg["inputs"], "outputs": seg["outputs"]}, indent=2) + "\n")
    (d / "README.txt").write_text(
        "Hailo segment for Hailo's Dataflow Compiler (x86-64 Linux, from hailo.ai's developer zone; not\n"
        "installable by edgekit, and not run here: these steps are unverified by edgekit's tests).\n"
        f"{model.name} is the INT8 model edgekit compiled; the DFC quantizes by itself, so give its parser\n"
        "the float model this file was converted from, cut at the start/end tensors in segment.json, and a\n"
        "calibration set of float inputs (calib.npy; int8 frames dequantize with the scale and zero point\n"
        "in segment.json). With the DFC's command line (check `hailo parser tf --help` for your version):\n\n"
        f"  hailo parser tf <float model> --start-node-names {' '.join(starts)} --end-node-names {' '.join(ends)}"
        f" --hw-arch {hw_arch}\n"
        f"  hailo optimize <model>.har --hw-arch {hw_arch} --calib-set-path calib.npy\n"
        f"  hailo compiler <model>_optimized.har --hw-arch {hw_arch}\n\n"
        "then: edgekit compile MODEL --board rpi5-hailo --hef <the .hef> --out DIR\n")
    return d
