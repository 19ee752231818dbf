"""The car computer: a Linux car runtime, its drivers and the DonkeyCar parts (edgekit car)."""
