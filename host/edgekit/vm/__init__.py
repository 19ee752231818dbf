"""A Linux VM twin of the car computer (Debian kernel in QEMU, the host root shared read-only)."""
