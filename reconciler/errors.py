"""One error tree for everything a user can cause.

The CLI prints a `UserError`'s message and exits 1; anything else is a bug and
is shown as a traceback only with `--debug`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class SourceLocation:
    """Where in org/ something was written: 1-based line and column."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class InputIssue:
    """One problem in the org/ files, with where it is and what would be right."""

    location: SourceLocation
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class UserError(Exception):
    """An error the user can fix; its message is printed as is, without a traceback."""


class ValidationFailed(UserError):
    """org/ has one or more problems; all of them are carried, sorted by place."""

    def __init__(self, issues: list[InputIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.location, i.message))
        super().__init__("\n".join(str(i) for i in self.issues))


class ProviderError(UserError):
    """The provider could not be read or written as a whole (not one change)."""


class UnsafePlan(UserError):
    """A plan breaks a safety limit from org.yaml; it may not be applied."""


class StalePlan(UserError):
    """A saved plan no longer matches the provider or org/."""


_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def unprintable(char: str) -> bool:
    """A character that does not belong in one line of text on a terminal or in a log: control
    characters, line and paragraph separators, and the lone surrogates Python decodes a file
    name's non-UTF-8 bytes to (they cannot even be encoded to be printed)."""
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


def printable(text: str) -> str:
    """`text` safe to print, write as JSON or hash: a byte that was not UTF-8 (a GBK file name,
    decoded by the OS with surrogate escapes) shown as \\xNN, a control character as \\t or
    \\uNNNN."""
    if not any(unprintable(char) for char in text):
        return text
    out = []
    for char in text:
        if not unprintable(char):
            out.append(char)
        elif 0xDC80 <= ord(char) <= 0xDCFF:  # os.fsdecode's escape of the byte ord(char) - 0xDC00
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        else:
            out.append(_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"))
    return "".join(out)


def display_path(path: Path, root: Path) -> str:
    """A path as the user should see it: relative to the repo root where possible."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
