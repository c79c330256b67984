"""The Alibaba Mail open-platform emulator (see server.py)."""

from .server import AlimailEmulator

__all__ = ["AlimailEmulator"]
