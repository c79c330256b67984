"""Renderers: pure functions Plan -> str (text for terminals, markdown for PR comments, json).

The names below are loaded when first asked for: every run imports this package (its help page
lives here), and `validate` renders no plan (tests/test_cli_imports.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.render.json import render_json
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_text, write_text

__all__ = ["render_json", "render_markdown", "render_text", "write_text"]
_HOME = {"render_json": "json", "render_markdown": "markdown", "render_text": "text", "write_text": "text"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
