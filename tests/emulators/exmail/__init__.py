"""The Tencent Exmail emulator (see server.py)."""

from .server import ExmailEmulator

__all__ = ["ExmailEmulator"]
