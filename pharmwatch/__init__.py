"""The top layer: CLI, configuration, scheduler — wiring only; nothing below imports it."""

__version__ = "0.1.0"
