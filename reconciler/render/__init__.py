"""Renderers: pure functions Plan -> str (text for terminals, markdown for PR comments, json)."""

from reconciler.render.json import render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text, write_text

__all__ = ["render_json", "render_markdown", "render_text", "write_text"]
