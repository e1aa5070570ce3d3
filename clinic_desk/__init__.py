"""clinic-desk: a terminal clinic desk."""

__version__ = "0.1.0"
