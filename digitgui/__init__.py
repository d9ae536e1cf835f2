"""digitgui: watch a from-scratch NumPy network learn to read digits, then draw your own."""

__version__ = "0.1.0"
