"""The HailoRT binding (cffi, ABI mode) against edgekit's twin of libhailort.so: a whole model
through the binding is bit-exact with TFLM, every call is marshalled as hailort.h says, status
codes become clear errors, and every handle is released on every path."""
from __future__ import annotations

import numpy as np
import pytest

from edgekit.accel import backends
from edgekit.accel.hailort import HailoError, HailoRT
from edgekit.accel.twins import TwinProbe, twin_library
from edgekit.catalog import get_board
from edgekit.codegen import compile_model
from edgekit.errors import ToolError, UserError
from edgekit.golden import TflmRunner
from edgekit.golden.verify import random_inputs

HAILO = get_board("rpi5-hailo")


@pytest.fixture(scope="module")
def twin():
    lib = twin_library("hailort")
    return lib, TwinProbe(lib)


def _compile(tflite, out):
    compile_model(tflite, out, board=HAILO, variant="portable")  # run here on x86: the portable tier
    backends.attach_partition(out, tflite, HAILO)
    return out


@pytest.fixture(scope="module")
def pilot_dir(pilot_int8_path, tmp_path_factory):
    from edgekit.accel.hef import write_twin_hef
    out = _compile(pilot_int8_path, tmp_path_factory.mktemp("hailo") / "pilot")
    write_twin_hef(out / "segments" / "0", out / "segments" / "0" / "twin.hef")
    return out


@pytest.mark.slow
def test_pilot_through_the_hailo_binding_is_bit_exact_with_tflm_over_100_inputs(twin, pilot_dir, pilot_int8_path):
    lib, probe = twin
    live = probe.live()
    import edgekit.runtime as rt
    cpu = rt.load(pilot_dir)
    tflm = TflmRunner(pilot_int8_path, preserve_all=False)
    with backends.load(pilot_dir, "hailo", HAILO, library=str(lib)) as model:
        assert model.how == "twin"
        assert probe.live() == live + 6          # vdevice, HEF, network group, 1 input and 2 output vstreams
        n = 0
        for xs in random_inputs(cpu, 100, seed=3):
            ours = model.invoke(list(xs))
            ref = tflm(list(xs))
            assert len(ours) == len(ref) == 2
            for a, b in zip(ours, ref):
                assert np.array_equal(a.ravel(), b.ravel())
            n += 1
    assert n == 100
    assert probe.live() == live, "a HailoRT handle leaked"


def test_the_calls_are_marshalled_as_hailort_h_says(twin, pilot_dir):
    lib, probe = twin
    probe.reset()
    hef = pilot_dir / "segments" / "0" / "twin.hef"
    rt = HailoRT(lib)
    assert rt.version() == "4.23.0"
    with rt.open(hef, "uint8") as net:
        assert net.input_sizes == [120 * 160 * 3] and net.output_sizes == [1, 1]
        x = np.zeros((1, 120, 160, 3), np.int8)
        net.infer([x.view(np.uint8)])
    calls = probe.calls()
    assert "hailo_create_vdevice params=NULL" in calls
    assert f"hailo_create_hef_file {hef}" in calls
    assert "hailo_configure_vdevice params=NULL capacity=8" in calls            # HAILO_MAX_NETWORK_GROUPS
    assert "hailo_make_input_vstream_params format=1 capacity=40" in calls      # UINT8, HAILO_MAX_STREAMS_COUNT
    assert "hailo_vstream_write_raw_buffer size=57600" in calls
    assert calls.count("hailo_vstream_read_raw_buffer size=1") == 2
    tail = calls[-4:]
    assert tail == ["hailo_release_output_vstreams count=2", "hailo_release_input_vstreams count=1",
                    "hailo_release_hef", "hailo_release_vdevice"]
    # float32 frames (what edgekit's Hailo backend uses): 4 bytes a value, (de)quantized by the library
    with rt.open(hef, "float32") as net:
        assert net.input_sizes == [4 * 120 * 160 * 3] and net.output_sizes == [4, 4]
        ys = net.infer([np.zeros(120 * 160 * 3, np.float32)])
        assert all(y.dtype == np.float32 and y.shape == (1,) for y in ys)
    assert "hailo_make_output_vstream_params format=3 capacity=40" in probe.calls()


@pytest.mark.parametrize("step,status,name", [
    ("hailo_create_vdevice", 74, "HAILO_OUT_OF_PHYSICAL_DEVICES"),
    ("hailo_create_hef_file", 26, "HAILO_INVALID_HEF"),
    ("hailo_configure_vdevice", 6, "HAILO_INVALID_OPERATION"),
    ("hailo_make_input_vstream_params", 2, "HAILO_INVALID_ARGUMENT"),
    ("hailo_make_output_vstream_params", 3, "HAILO_OUT_OF_HOST_MEMORY"),
    ("hailo_create_input_vstreams", 61, "HAILO_NOT_FOUND"),
    ("hailo_create_output_vstreams", 61, "HAILO_NOT_FOUND"),
])
def test_a_failure_at_each_step_is_a_clear_error_and_frees_everything(twin, pilot_dir, step, status, name):
    lib, probe = twin
    live = probe.live()
    probe.reset()
    probe.fail(step, status)
    try:
        with pytest.raises(HailoError, match=f"{step} failed: {name} \\({status}\\)"):
            HailoRT(lib).open(pilot_dir / "segments" / "0" / "twin.hef")
    finally:
        probe.fail("", 0)
    assert probe.live() == live, f"a handle leaked after {step} failed"


def test_failures_while_running_free_everything_on_close(twin, pilot_dir):
    lib, probe = twin
    live = probe.live()
    for step, status in (("hailo_vstream_write_raw_buffer", 4), ("hailo_vstream_read_raw_buffer", 4)):
        probe.fail(step, status)
        try:
            with HailoRT(lib).open(pilot_dir / "segments" / "0" / "twin.hef") as net:
                with pytest.raises(HailoError, match="HAILO_TIMEOUT"):
                    net.infer([np.zeros(57600, np.uint8)])
        finally:
            probe.fail("", 0)
        assert probe.live() == live
    with HailoRT(lib).open(pilot_dir / "segments" / "0" / "twin.hef") as net:
        with pytest.raises(UserError, match="57599 bytes, the vstream frame is 57600"):
            net.infer([np.zeros(57599, np.uint8)])
    assert probe.live() == live


def test_bad_hef_files(twin, tmp_path):
    lib, probe = twin
    live = probe.live()
    real_looking = tmp_path / "x.hef"
    real_looking.write_bytes((0x01484546).to_bytes(4, "little") + b"\0" * 60)
    with pytest.raises(HailoError, match="HAILO_INVALID_HEF"):
        HailoRT(lib).open(real_looking)
    with pytest.raises(UserError, match="no such HEF file"):
        HailoRT(lib).open(tmp_path / "missing.hef")
    assert probe.live() == live


def test_no_library_says_what_to_install_and_that_cpu_still_runs(monkeypatch, pilot_dir):
    monkeypatch.delenv("EDGEKIT_HAILO_LIBRARY", raising=False)
    monkeypatch.setattr(backends, "vendor_library", lambda b: None)
    with pytest.raises(ToolError, match="libhailort.so is not installed.*cpu backend still runs"):
        backends.load(pilot_dir, "hailo", HAILO)
    with backends.load(pilot_dir, "cpu", HAILO) as cpu:
        assert len(cpu.invoke([np.zeros((1, 120, 160, 3), np.int8)])) == 2


def test_a_partitioned_model_runs_hailo_then_cpu_segments_bit_exact(twin, mlperf_models, tmp_path):
    lib, probe = twin
    live = probe.live()
    path = mlperf_models["kws_ref_model"]
    out = _compile(path, tmp_path / "kws")
    import json
    part = json.loads((out / "report.json").read_text())["partition"]
    assert [s["backend"] for s in part["segments"]] == ["hailo", "cpu"]    # SOFTMAX stays on the CPU
    import edgekit.runtime as rt
    cpu = rt.load(out)
    tflm = TflmRunner(path, preserve_all=False)
    with backends.load(out, "hailo", HAILO, library=str(lib)) as model:
        for xs in random_inputs(cpu, 20, seed=5):
            ref = [i.dequantize(x) if i.float_in_model else x for i, x in zip(cpu.inputs, xs)]
            got = model.invoke(list(xs))[0]
            want = tflm(ref)[0]
            if cpu.outputs[0].float_in_model:
                want = cpu.outputs[0].quantize(want)
            assert np.array_equal(got.ravel(), np.asarray(want).ravel())
    assert probe.live() == live


def test_a_float_io_model_partitions_by_op_index_and_runs_bit_exact(twin, tmp_path):
    """Float input/output: the codegen strips the edge QUANTIZE/DEQUANTIZE ops, so the graph's op
    indices start at 1; the partition must follow the indices, not the positions."""
    import keras

    from edgekit.accel.partition import partition
    from int8_models import convert_int8
    keras.utils.set_random_seed(1)
    i = keras.Input((8, 8, 3), batch_size=1)
    x = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, activation="relu")(i))
    model = keras.Model(i, keras.layers.Dense(5, activation="softmax")(x))
    calib = np.random.default_rng(7).random((8, 1, 8, 8, 3), dtype=np.float32)
    path = convert_int8(model, calib, tmp_path / "float_io.tflite", int8_io=False)
    tpu = partition(path, get_board("rpi4-coral-usb"))
    (seg,) = tpu["segments"]
    assert seg["backend"] == "cpu" and seg["ops"][0] == 1
    assert "after op 0 QUANTIZE" in seg["cpu_reasons"][1]["reason"]
    lib, probe = twin
    out = _compile(path, tmp_path / "fio")
    import edgekit.runtime as rt
    cpu = rt.load(out)
    tflm = TflmRunner(path, preserve_all=False)
    with backends.load(out, "hailo", HAILO, library=str(lib)) as m:
        for xs in random_inputs(cpu, 30, seed=1):
            want = cpu.outputs[0].quantize(tflm([cpu.inputs[0].dequantize(xs[0])])[0])
            assert np.array_equal(m.invoke(list(xs))[0].ravel(), want.ravel())
