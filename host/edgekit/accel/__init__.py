"""edgekit.accel: accelerator backends (cpu, edgetpu, hailo) behind one interface.

- `hailort`, `edgetpu_rt`: cffi ABI-mode bindings to the vendors' C libraries (libhailort.so,
  libedgetpu.so.1), declared from their public headers; they run unchanged on a real board.
- `twins`: builds the project's own twins of those libraries (firmware/twins/) for tests here.
- `partition`: which segment of a model runs on which backend (written by `edgekit compile`).
- `latency`: the latency/energy model fitted to published figures (docs/ACCELERATORS.md).
- `backends`: which backend a board uses, what is reachable, and running a compiled model.
"""
