"""edgekit's version; `edgekit` is a namespace package spanning host/, models/ and quantize/."""

__version__ = "0.1.0"
