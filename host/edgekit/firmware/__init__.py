"""Car firmware on boards and their emulated twins: PlatformIO builds (`pio`, `build`), twins
(`twin.Twin`), the MLPerf Tiny DUT client (`dut`), and the firmware-in-the-loop pilot runner
(`runner.TwinRunner`)."""
