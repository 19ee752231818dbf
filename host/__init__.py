"""edgekit: record → train → quantize → compile → build → flash → drive → HIL report."""

__version__ = "0.1.0"
