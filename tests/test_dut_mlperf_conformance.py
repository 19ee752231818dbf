"""MLPerf Tiny conformance of the DUT protocol on the emulated twins, checked by a client written
from the protocol alone (docs/SOURCES.md §7; pyserial, not edgekit's DutClient): `m-results-[...]`
holds each output dequantized as `%.3f`, equal to `'%.3f' % v` of TFLM's dequantized output, and for
the anomaly-detection autoencoder (ad01) one number, the anomaly score computed on the device,
equal to the score computed on the host from TFLM's output the way the reference firmware does."""
from __future__ import annotations

import numpy as np
import pytest
import serial

from edgekit.firmware.twin import Twin
from test_firmware_fixtures import built

BOARDS = ["coral", "coral-devboard"]  # mps2-an500 (Cortex-M7) and qemu-aarch64 twins


def ask(port, cmd: str) -> list[str]:
    """One command; the reply lines up to `m-ready`."""
    port.write((cmd + "%").encode())
    lines: list[str] = []
    while True:
        raw = port.readline()
        assert raw.endswith(b"\n"), f"no complete reply to {cmd[:20]}%: {lines} {raw[:80]!r}"
        line = raw.decode().strip()
        if line == "m-ready":
            return lines
        lines.append(line)


def run_on_twin(board: str, tflite, x: np.ndarray, tmp_path) -> tuple[str, list[int]]:
    """Load x, `infer 1 0%`; the m-results payload (checking `results%` repeats it) and the raw
    int8 outputs from `results-raw%`."""
    image = built(board, tflite).image
    with Twin(board, image, state=tmp_path) as twin:
        port = serial.serial_for_url(twin.url, timeout=300)
        try:
            port.write(b"name%")
            while not port.readline().startswith(b"m-name-dut-"):  # skip the boot lines
                pass
            while port.readline().strip() != b"m-ready":
                pass
            data = x.tobytes()
            assert ask(port, f"db load {len(data)}") == [f"m-[Expecting {len(data)} bytes]"]
            for i in range(0, len(data), 2048):
                reply = ask(port, "db " + data[i:i + 2048].hex())
            assert reply == ["m-load-done"]
            lines = ask(port, "infer 1 0")
            results = [ln for ln in lines if ln.startswith("m-results-[")]
            assert len(results) == 1 and not any(ln.startswith("e-") for ln in lines), lines
            assert ask(port, "results") == results
            [raw] = ask(port, "results-raw")
            assert raw.startswith("m-results-raw-[") and raw.endswith("]")
            return results[0][len("m-results-["):-1], [int(v) for v in raw[len("m-results-raw-["):-1].split(",")]
        finally:
            port.close()


def tflm(tflite, x: np.ndarray) -> list[tuple[np.ndarray, float, int]]:
    """TFLM's int8 outputs, in output order, with each output's scale and zero point."""
    import tflite_micro as tm
    from ai_edge_litert.interpreter import Interpreter

    details = Interpreter(model_path=str(tflite)).get_output_details()
    ip = tm.runtime.Interpreter.from_file(str(tflite))
    ip.set_input(x, 0)
    ip.invoke()
    return [(np.asarray(ip.get_output(i)).ravel(), *d["quantization"]) for i, d in enumerate(details)]


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """TFLM's Dequantize kernel: static_cast<float>(double(scale) * (q - zero_point))."""
    return (np.float64(np.float32(scale)) * (q.astype(np.int64) - zero_point)).astype(np.float32)


def model_path(model: str, request):
    from edgekit.paths import MLPERF_TINY

    if model == "pilot":
        return request.getfixturevalue("pilot_int8_path")
    return MLPERF_TINY / {"kws": "kws_ref_model.tflite", "ad": "ad01_int8.tflite"}[model]


@pytest.mark.slow
@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("model", ["kws", "pilot"])
def test_results_are_dequantized_percent_3f(board, model, request, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    tfl = model_path(model, request)
    shape = Interpreter(model_path=str(tfl)).get_input_details()[0]["shape"]
    lo, hi = {"kws": (70, 100), "pilot": (-128, 128)}[model]  # KWS: an input its softmax is unsure of
    x = np.random.default_rng(21).integers(lo, hi, size=shape, dtype=np.int8)
    want = ["%.3f" % v for q, s, zp in tflm(tfl, x) for v in dequantize(q, s, zp)]
    text, raw = run_on_twin(board, tfl, x, tmp_path)
    got = text.split(",")
    assert got == want and raw == [int(v) for q, _, _ in tflm(tfl, x) for v in q]
    assert len(set(want)) > 1  # a spread of values, not one constant
    print(f"{board} {model}: m-results-[{','.join(got)}]")


@pytest.mark.slow
@pytest.mark.parametrize("board", BOARDS)
def test_ad_anomaly_score_on_device(board, request, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    tfl = model_path("ad", request)
    inp = Interpreter(model_path=str(tfl)).get_input_details()[0]
    x = np.random.default_rng(4).integers(-128, 128, size=inp["shape"], dtype=np.int8)
    [(q, scale, zp)] = tflm(tfl, x)
    out = dequantize(q, scale, zp)
    xin = dequantize(x.ravel(), *inp["quantization"])
    # The reference th_results(): float32 running sum of squared differences in element order, / N.
    total = np.float32(0)
    for o, i in zip(out, xin):
        d = np.float32(o - i)
        total = np.float32(total + np.float32(d * d))
    score = np.float32(total / np.float32(len(out)))
    assert abs(float(score) - float(np.mean((out.astype(np.float64) - xin) ** 2))) < 1e-3 * float(score)
    got, raw = run_on_twin(board, tfl, x, tmp_path)
    assert got == "%.3f" % score
    assert raw == q.tolist()  # 640 raw outputs: a ~2.5 kB line, longer than the board's line buffer
    print(f"{board} ad01: anomaly score m-results-[{got}] (host from TFLM: {float(score):.6f})")
