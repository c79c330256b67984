"""Looking for secrets where they must never be: every form a password can take on its way out.

A password leaks in more shapes than its plain text: a server's reply may quote the message
base64-encoded (at any of three byte alignments, standard or URL-safe alphabet), quoted-printable
or URL-encoded, and a debug dump may show its bytes in hex. `encoded_forms` lists each form;
`find_secrets` looks for every form of every secret in texts and files and names each hit.
"""

from __future__ import annotations

import base64
import quopri
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path


def encoded_forms(secret: str) -> list[str]:
    """The secret as a reply could carry it: plain, base64 (standard and URL-safe) of every
    alignment (the groups that hold only its bytes), quoted-printable, URL-encoded."""
    raw = secret.encode()
    forms = {secret, quopri.encodestring(raw).decode().replace("=\n", "").strip(),
             urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    for offset in range(3):
        first, last = -(-offset // 3), (offset + len(raw)) // 3  # whole 3-byte groups of the secret alone
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.add(encode(b"\0" * offset + raw + b"\0\0").decode()[4 * first:4 * last])
    assert all(len(form) >= 12 for form in forms)
    return sorted(forms)


def every_form(secret: str) -> list[str]:
    """`encoded_forms` and hex (lower and upper case)."""
    return sorted({*encoded_forms(secret), secret.encode().hex(), secret.encode().hex().upper()})


def files_under(*roots: Path) -> dict[str, str]:
    """Every plain file under `roots` (hidden folders such as .reconciler/ included), by path."""
    found: dict[str, str] = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            found[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return found


def find_secrets(secrets: Iterable[str], texts: Mapping[str, str]) -> list[str]:
    """One line per form of a secret found in one of `texts` (where -> text): [] when clean.
    Texts are also searched with their whitespace removed (a form folded over two lines)."""
    hits = []
    for secret in secrets:
        assert len(secret) >= 8, "too short to look for without false alarms"
        for form in every_form(secret):
            for where, text in texts.items():
                if form in text or form in "".join(text.split()):
                    hits.append(f"{form!r} (a form of a secret) in {where}")
    return hits
