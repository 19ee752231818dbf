"""edgekit.flash: MCUboot-format signed images, SMP device management, A/B slots.

- `keys`: Ed25519 key pairs (imgtool's key classes).
- `image`: sign/inspect MCUboot images bound to a board and a slot (imgtool's Python API).
- `build`: the C bootloader, the SMP server sources for the car app, a small test app.
- `twin`: the mps2-an500 twin (edgekit.firmware.twin.Twin in flash mode): persistent flash file,
  trust anchor (the bootloader key, set by `edgekit keys provision`), write-count power cuts.
- `smp`: the host SMP client (smpclient) over any pyserial URL.
- `linux_slots`: the same A/B contract for Linux boards with slot folders.
"""
