"""`edgekit twin --board rpi4-coral-usb|rpi5-hailo` (no --image): the car computer's Linux VM twin.
First line: `ssh: USER@127.0.0.1:PORT`; runs until SIGINT/SIGTERM and always stops QEMU."""
from __future__ import annotations

import signal
import sys
import time


def _terminate(signum, frame):
    raise KeyboardInterrupt


def run_vm(args) -> int:
    from edgekit.vm.linux_vm import LinuxVM

    vm = LinuxVM(args.board)
    old = signal.signal(signal.SIGTERM, _terminate)
    try:
        vm.start()
        print(f"ssh: {vm.target}", flush=True)
        print(f"twin: {args.board} as a Linux VM ({vm.accel}; vivid camera, i2c-stub PCA9685 0x40 / INA219 0x41, "
              f"uinput); car disk {vm.disk}; console {vm.console}; Ctrl-C to stop", file=sys.stderr, flush=True)
        while vm.alive():
            time.sleep(0.2)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        vm.stop()
        signal.signal(signal.SIGTERM, old)
