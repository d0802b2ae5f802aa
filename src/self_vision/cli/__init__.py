"""The ``self-vision`` command line (``self_vision.cli:main``)."""

from .main import main

__all__ = ["main"]
