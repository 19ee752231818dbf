"""Board sessions, the labgrid way: one driver per kind of board connection, each a DriveLink to
the board under test that says what it is (description, clock) and what its figures are worth
(provenance, decided from the link it actually opened, never from the rig YAML).

- serial.py: a board on a serial port (a real UART, or any pyserial URL: then not measured-hw)
- twin.py:   the board's QEMU twin booted with -kernel on the model's firmware build
"""
from edgekit.hil.sessions.base import BoardSession, Unavailable

__all__ = ["BoardSession", "Unavailable"]
