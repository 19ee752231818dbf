"""A board on a serial port running the model's firmware (flash it first:
`edgekit flash --board B --model M.tflite --port PORT`). Its clock is the board's own.

The figures' provenance comes from the port actually opened: a UART device is measured-hw; a
pyserial socket:// URL or a pseudo-terminal is a program (here, an emulated twin): emulated."""
from __future__ import annotations

from pathlib import Path

from edgekit.hil.sessions.base import BoardSession, Unavailable
from edgekit.provenance import link_provenance


class SerialSession(BoardSession):
    def __init__(self, board, port: str, baud: int, model: Path | None) -> None:
        from edgekit.firmware.runner import DriveLink

        try:
            import serial
            ser = serial.serial_for_url(port, baudrate=baud, timeout=60)
        except Exception as exc:  # noqa: BLE001 - any open failure: the board is not there
            raise Unavailable(f"cannot open the board's serial port {port}: {exc}") from None
        self.link = DriveLink(ser, timeout=60)
        try:
            self.link.sync()
        except Exception as exc:  # noqa: BLE001 - opened, but no board answers the DUT protocol
            ser.close()
            raise Unavailable(f"no board answers on {port}: {exc}") from None
        self.provenance = link_provenance(ser)
        self.port = port
        self.description = f"{board.name} on {port} ({self.link.name()})"
        self.clock_note = {"clock": "the board's own clock (m-lap-us)", "link": f"{port} ({self.provenance})"}
        self.model = model

    def image_info(self) -> dict:
        return {"image": None, "ran_on": self.description, "model": str(self.model) if self.model else None,
                "how": "the image already flashed on the board (edgekit flash --board B --model M --port PORT)"}
