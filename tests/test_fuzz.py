"""Short CI run of the libFuzzer harnesses (firmware/fuzz/): scripts/fuzz.sh builds every harness
with clang (ASan + UBSan, no recovery) and runs each parser for FUZZ_RUNS executions on its seed
corpus; every run must end with exit 0 after libFuzzer really executed the inputs. The long run
is `scripts/fuzz.sh SECONDS` or `make fuzz`."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from edgekit.paths import FIRMWARE

ROOT = FIRMWARE.parent
PARSERS = ["smp_frame", "cbor", "mgmt", "dut", "image"]
RUNS = 20000

pytestmark = pytest.mark.slow   # ~20 s of builds and ~20 s of runs on the shared 2-core machine


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory):
    if shutil.which("clang") is None:
        pytest.fail("clang not found: the fuzz harnesses need the Debian packages clang and "
                    "libclang-rt-14-dev (scripts/bootstrap.sh installs them)")
    out = tmp_path_factory.mktemp("fuzz")
    env = dict(os.environ, FUZZ_OUT=str(out), FUZZ_RUNS=str(RUNS))
    proc = subprocess.run([str(ROOT / "scripts" / "fuzz.sh")], capture_output=True, text=True, env=env)
    lines = {ln.split()[0]: ln for ln in proc.stdout.splitlines() if ln.split() and ln.split()[0] in PARSERS}
    return proc, lines, out


@pytest.mark.parametrize("parser", PARSERS)
def test_parser_survives_fuzzing(fuzz_run, parser):
    proc, lines, out = fuzz_run
    assert parser in lines, f"no summary for {parser}:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    log = (out / "logs" / f"{parser}.log").read_text()
    assert " ok (log " in lines[parser], lines[parser] + "\n" + log[-3000:]
    assert f"Done {RUNS} runs" in log
    assert int(re.search(r"stat::number_of_executed_units: *(\d+)", log).group(1)) == RUNS
    seeds = len(list((FIRMWARE / "fuzz" / "corpus" / parser).iterdir()))
    inited = re.search(r"INITED cov: (\d+) ft: (\d+) corp: (\d+)/", log)
    assert inited and int(inited.group(3)) >= 1, log[:2000]   # the seeds were read and kept
    assert seeds >= 3
    assert int(re.findall(r"cov: (\d+)", log)[-1]) > 50, "the harness barely reaches the parser"


def test_harnesses_are_sanitized(fuzz_run):
    """The binaries carry libFuzzer, ASan and UBSan (a harness without them finds nothing)."""
    _, _, out = fuzz_run
    for parser in PARSERS:
        syms = subprocess.run(["nm", str(out / f"fuzz_{parser}")], capture_output=True, text=True, check=True).stdout
        for needed in ("LLVMFuzzerTestOneInput", "__asan_report_load1", "__ubsan_handle_add_overflow_abort"):
            assert needed in syms, f"fuzz_{parser} lacks {needed}"


def test_regression_inputs_pass(fuzz_run):
    """Inputs that crashed the DUT parsers before the fixes run clean now (ASan/UBSan)."""
    _, _, out = fuzz_run
    regress = sorted((FIRMWARE / "fuzz" / "corpus" / "dut").glob("regress_*"))
    assert len(regress) >= 2
    proc = subprocess.run([str(out / "fuzz_dut"), *map(str, regress)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("Executed ") == len(regress)


def test_driver_rejects_unknown_parser(tmp_path):
    proc = subprocess.run([str(ROOT / "scripts" / "fuzz.sh"), "1", "nosuch"], capture_output=True, text=True,
                          env=dict(os.environ, FUZZ_OUT=str(tmp_path)))
    assert proc.returncode == 2 and "unknown parser 'nosuch'" in proc.stderr
