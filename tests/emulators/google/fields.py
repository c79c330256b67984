"""Partial responses: the ``fields`` parameter (``nextPageToken,users(primaryEmail,name/givenName)``).

Grammar (as Google documents it): a comma-separated list of selections; ``a/b`` selects ``b``
inside ``a``; ``a(b,c)`` selects ``b`` and ``c`` inside ``a`` (inside every element when ``a``
is an array); ``*`` selects everything at its level. A selection naming a field the response
schema does not have is refused with 400, as the real service does.
"""

from __future__ import annotations

from typing import Any

from .discovery import USER_ANY_FIELDS, Api
from .errors import ApiError

Mask = dict[str, "Mask | None"]  # None: the whole value


class MaskError(ValueError):
    pass


def parse(text: str) -> Mask:
    mask, rest = _parse_list(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise MaskError(text)
    return mask


def _parse_list(text: str, pos: int) -> tuple[Mask, int]:
    mask: Mask = {}
    while pos < len(text):
        pos = _parse_selection(text, pos, mask)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        break
    return mask, pos


def _parse_selection(text: str, pos: int, into: Mask) -> int:
    start = pos
    while pos < len(text) and text[pos] not in ",()/":
        pos += 1
    name = text[start:pos]
    if not name:
        raise MaskError(text)
    if pos < len(text) and text[pos] == "/":
        sub = _ensure(into, name)
        return _parse_selection(text, pos + 1, sub)
    if pos < len(text) and text[pos] == "(":
        inner, pos = _parse_list(text, pos + 1)
        if pos >= len(text) or text[pos] != ")":
            raise MaskError(text)
        sub = _ensure(into, name)
        _merge(sub, inner)
        return pos + 1
    into[name] = None
    return pos


def _ensure(into: Mask, name: str) -> Mask:
    existing = into.get(name, {})
    if existing is None:  # already selected whole
        return {}
    into[name] = existing
    return existing


def _merge(target: Mask, extra: Mask) -> None:
    for key, value in extra.items():
        if value is None or target.get(key, {}) is None:
            target[key] = None
        else:
            sub = target.setdefault(key, {})
            assert sub is not None
            _merge(sub, value)


def apply(value: Any, mask: Mask | None) -> Any:
    if mask is None:
        return value
    if isinstance(value, list):
        return [apply(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in mask:
        return {key: apply(item, mask.get(key, mask["*"])) for key, item in value.items()}
    return {key: apply(value[key], sub) for key, sub in mask.items() if key in value}


def check(api: Api, ref: str | None, mask: Mask, text: str) -> None:
    """Refuse a selection of a field that the response schema does not have."""
    if ref is None:
        return
    _check(api, api.schemas[ref], ref, mask, text)


def _check(api: Api, schema: dict[str, Any], ref: str | None, mask: Mask, text: str) -> None:
    props = schema.get("properties")
    for key, sub in mask.items():
        if key == "*" or props is None:
            continue
        if key not in props:
            raise ApiError(400, "invalidParameter", f"Invalid field selection {key}", location="fields")
        if sub is None or (ref == "User" and key in USER_ANY_FIELDS):
            continue
        spec = props[key]
        if spec.get("type") == "array":
            spec = spec.get("items", {})
        child_ref = spec.get("$ref")
        if child_ref:
            _check(api, api.schemas[child_ref], child_ref, sub, text)
        elif "properties" in spec:
            _check(api, spec, None, sub, text)
