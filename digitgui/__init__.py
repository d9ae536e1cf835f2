"""digitgui: watch a from-scratch NumPy network learn to read digits, then draw your own."""

#: The one place the version is written: pyproject.toml reads it from here ([tool.hatch.version]).
__version__ = "0.1.0"
