"""edgekit dev-platform: the toolchains are Debian packages on PATH, so there is nothing to install."""
from platformio.public import PlatformBase


class EdgekitPlatform(PlatformBase):
    def is_embedded(self):
        return True
