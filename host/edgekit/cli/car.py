"""`edgekit car selftest --model DIR --vectors F`: the deploy self-test (edgekit.car.selftest).
`edgekit car run --model DIR [--car NAME] [--camera /dev/video0] [--i2c-bus N] [--seconds S]
[--tub DIR] [--log FILE] [--json] [--gamepad auto|/dev/input/eventN] [--battery]
[--capture shadow|autopilot --capture-dir DIR]`: drive the car on a Linux car computer (camera → pilot → PWM)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("car", help="the car runtime on a Linux car computer (Raspberry Pi + PCA9685 + camera)")
    csub = p.add_subparsers(dest="car_command", metavar="ACTION")
    csub.required = True
    r = csub.add_parser("run", help="drive: camera → pilot → steering/throttle → PCA9685, with the failsafe")
    r.add_argument("--model", type=Path, required=True, help="an `edgekit compile` output folder")
    r.add_argument("--car", default="donkey_1_10", help="car YAML (name or path) with the `pwm` calibration")
    r.add_argument("--camera", help="camera device (default: the car YAML's camera.device); the YAML's "
                   "camera.driver picks V4L2 or picamera2")
    r.add_argument("--camera-size", default="640x480", metavar="WxH", help="capture size (resized to the pilot's input)")
    r.add_argument("--i2c-bus", type=int, help="override the car YAML's pwm.i2c_bus")
    r.add_argument("--seconds", type=float, help="stop after this long (default: until SIGTERM)")
    r.add_argument("--tub", type=Path, help="record a DonkeyCar tub v2 here while driving")
    r.add_argument("--log", type=Path, help="one JSON line per control step and failsafe (stage timestamps)")
    r.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    r.add_argument("--gamepad", metavar="auto|DEVICE", help="drive by hand / take over with an evdev gamepad "
                   "(the car YAML's `gamepad` axes and mode button); auto = the first that has them")
    r.add_argument("--capture", choices=("shadow", "autopilot"), help="shadow-mode capture: store a window of "
                   "frames around each disagreement (shadow: the person drives) or takeover (autopilot) with both "
                   "commands; needs --gamepad (the person). Pull them home with `edgekit data pull --host`")
    r.add_argument("--capture-dir", type=Path, help="where captured windows go (default: ~/.cache/edgekit/captures)")
    r.add_argument("--battery", action="store_true", help="read the INA219 of the car YAML's `battery` on the "
                   "PWM bus each step (logged and recorded), and stop the car below its cutoff_v")
    r.set_defaults(func=run)
    t = csub.add_parser("selftest", help="the deploy self-test: a compiled model's outputs for baked inputs vs TFLM's")
    t.add_argument("--model", type=Path, required=True, help="an `edgekit compile` output folder")
    t.add_argument("--vectors", type=Path, required=True, help="selftest.npz from the deploy bundle")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=selftest)


def selftest(args) -> int:
    from edgekit.car.selftest import check
    from edgekit.errors import UserError

    if not (args.model / "report.json").exists() or not args.vectors.is_file():
        raise UserError(f"--model {args.model} / --vectors {args.vectors}: need a compiled folder and its selftest.npz")
    res = check(args.model, args.vectors)
    print(json.dumps(res) if args.json else f"self-test {'passed' if res['ok'] else 'FAILED'}: {res['detail']}")
    return 0 if res["ok"] else 1


def run(args) -> int:
    from edgekit.car.drivers.pca9685 import PCA9685, PWMActuator
    from edgekit.car.drivers import open_camera
    from edgekit.car.runtime import CarRuntime, PilotProcess, latency_summary
    from edgekit.errors import UserError
    from edgekit.sim.car import load_car
    from edgekit.sim.car_schema import Pwm

    if not (args.model / "report.json").exists():
        raise UserError(f"--model {args.model}: not an `edgekit compile` output folder (no report.json)")
    calib = Pwm(**load_car(args.car)["pwm"])
    pwm = PCA9685(args.i2c_bus if args.i2c_bus is not None else calib.i2c_bus, calib.address, calib.frequency_hz)
    act = PWMActuator(pwm, calib)
    act.neutral()
    try:
        w, h = (int(v) for v in args.camera_size.lower().split("x"))
    except ValueError:
        raise UserError(f"--camera-size {args.camera_size!r}: expected WxH, e.g. 640x480") from None
    if args.capture and not args.gamepad:
        raise UserError("--capture needs --gamepad: the person whose commands the pilot's are compared with")
    cam = open_camera(args.car, capture_width_px=w, capture_height_px=h,
                      **({"device": args.camera} if args.camera else {}))
    pilot = PilotProcess(args.model)
    bus = args.i2c_bus if args.i2c_bus is not None else calib.i2c_bus
    print(f"car: camera {getattr(cam, 'device', cam.driver)} ({cam.driver}: {cam.card}, {cam.width}x{cam.height} {cam.format}), "
          f"pilot pid {pilot.pid}, PCA9685 0x{calib.address:02x} on /dev/i2c-{bus}", file=sys.stderr, flush=True)
    batt = batt_cfg = None
    if args.battery:
        from edgekit.car.drivers.battery import open_battery
        from edgekit.sim.car_schema import Battery
        batt_cfg = Battery(**load_car(args.car)["battery"])
        batt = open_battery(bus, batt_cfg)
    tub = None
    if args.tub:
        from edgekit.car.runtime import TUB_BATTERY
        from edgekit.sim.tub import INPUTS, TYPES, TubWriter
        extra = TUB_BATTERY if batt else ([], [])
        tub = TubWriter(args.tub, inputs=INPUTS + extra[0], types=TYPES + extra[1],
                        metadata={"source": "edgekit car run", "model": str(args.model)})
    pad = None
    if args.gamepad:
        from edgekit.car.drivers.gamepad_evdev import EvdevGamepad
        from edgekit.sim.car_schema import Gamepad
        pad = EvdevGamepad(args.gamepad, Gamepad(**load_car(args.car).get("gamepad", {})))
        print(f"car: gamepad {pad.dev.path} ({pad.name}); {pad.cfg.mode_button} toggles user/pilot",
              file=sys.stderr, flush=True)
    capture = writer = None
    if args.capture:
        from edgekit.paths import state_dir
        from edgekit.shadow.capture import Capture
        from edgekit.shadow.store import WindowStore, WindowWriter
        folder = args.capture_dir or state_dir() / "captures"
        writer = WindowWriter(WindowStore(folder))
        capture = Capture(writer, meta={"source": "edgekit car run", "model": str(args.model)})
        print(f"car: {args.capture} capture into {folder}", file=sys.stderr, flush=True)
    log = open(args.log, "a") if args.log else None
    try:
        from edgekit.car.service import Watchdog   # sd_notify READY/WATCHDOG when run as a service
        stats = CarRuntime(cam, pilot, act, tub=tub, log=log, gamepad=pad, battery=batt,
                           cutoff_v=batt_cfg.cutoff_v if batt_cfg else None,
                           capture=capture, capture_mode=args.capture or "shadow",
                           watchdog=Watchdog()).run(args.seconds)
    finally:
        if writer:
            writer.close()
        if pad:
            pad.close()
        pilot.close()
        cam.close()
        pwm.close()
        if tub:
            tub.close()
        if log:
            log.close()
    summary = latency_summary(stats.records)
    # Decided by the devices that actually answered: the kernel's test camera (vivid) or an
    # i2c-stub bus make the timings emulated; a real camera and PWM board make them measured-hw.
    bus_name = Path(f"/sys/class/i2c-dev/i2c-{bus}/name")
    stub = bus_name.exists() and "stub" in bus_name.read_text().lower()
    summary["provenance"] = "emulated" if cam.driver == "vivid" or stub else "measured-hw"
    if batt:
        summary["battery_provenance"] = batt.provenance   # decided by the bus that answered (i2c-stub: emulated)
        batt.bus.close()
    summary["failsafes"] = stats.failsafes
    summary["camera_frames"] = stats.frames
    if capture is not None:
        summary["capture"] = {"mode": args.capture, "events": capture.events, "windows": capture.windows,
                              "written": writer.written, "dropped": writer.dropped,
                              "error": str(writer.error) if writer.error else None}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"car: {summary.get('records', 0)} steps at {summary.get('rate_hz', 0):.1f} Hz, "
              f"camera→PWM p50 {summary.get('latency_ms', {}).get('p50', float('nan')):.1f} ms, "
              f"{len(stats.failsafes)} failsafe(s)")
    return 0
