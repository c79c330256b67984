"""Turn pydantic's validation errors into located messages an admin can act on."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler.errors import InputIssue
from reconciler.model.suggest import did_you_mean
from reconciler.model.types import PATTERN_MEANINGS
from reconciler.model.yamlsource import DocumentView, PathKey

TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "date_type": "a date like 2026-12-31",
    "date_from_datetime_parsing": "a date like 2026-12-31",
    "date_parsing": "a date like 2026-12-31",
}


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Optional, list, dict, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict, tuple):
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            found.extend(_unwrap(arg))
        return found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names valid at `loc` (the mapping holding the unknown key)."""
    current: list[type[BaseModel]] = [model]
    for part in _drop_union_tags(loc):
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for cls in current:
            info = cls.model_fields.get(str(part))
            if info is not None:
                nxt.extend(_unwrap(info.annotation))
            else:
                # A tagged-union branch ("local") or a dict key ("staff"): stay on the same level.
                nxt.append(cls)
        current = nxt
    return sorted({name for cls in current for name in cls.model_fields})


SHOWN_CHARS = 80


def shown(value: Any) -> str:
    """A value as a message quotes it, cut short: one line per problem, never a megabyte of it."""
    text = repr(value) if not isinstance(value, dict | list) or len(value) <= 20 else (
        f"<{type(value).__name__} of {len(value):,} items>")
    if len(text) <= SHOWN_CHARS:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters written out"
    return f"{text[:SHOWN_CHARS - 20]}... ({size})"


def describe(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        name = str(loc[-1])
        if len(loc) == 3 and loc[0] == "provider" and loc[1] in PROVIDER_TAGS:
            return _other_kinds_key(model, str(loc[1]), name)
        options = allowed_keys(model, loc[:-1])
        hint = did_you_mean(name, options) or (f"; allowed: {', '.join(options)}" if options else "")
        return f"unknown key {name!r}{hint}"
    if kind == "missing":
        return f"missing required key {str(loc[-1])!r}"
    if kind == "string_pattern_mismatch":
        meaning = PATTERN_MEANINGS.get(ctx.get("pattern", ""), f"text matching {ctx.get('pattern')}")
        return f"{shown(error['input'])} is not {meaning}"
    if kind == "literal_error":
        value = error["input"]
        expected = ctx.get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        hint = did_you_mean(str(value), options)
        return f"{shown(value)} is not allowed here; use one of {expected}{hint}"
    if kind in TYPE_WORDS:
        value = error["input"]
        said = f"expected {TYPE_WORDS[kind]}, got {type(value).__name__} {shown(value)}"
        if kind == "string_type" and isinstance(value, int | float | bool):
            # YAML reads id: 2001 as a number (and 1e3, yes, on as more): quoting keeps it as written.
            return f"{said}; put it in quotes to mean the text: \"{value}\""
        if kind in ("model_type", "dict_type") and isinstance(value, str) and "：" in value:
            return f"{said}; '：' is a full-width colon, which YAML does not read as one: type ':' and a space"
        return said
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r}; use one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"missing key {ctx.get('discriminator', 'kind')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


PROVIDER_TAGS = ("local", "google", "microsoft", "exmail", "alimail")


def _other_kinds_key(model: type[BaseModel], kind: str, name: str) -> str:
    """A key of `provider:` the chosen kind lacks: say whose it is (after switching kinds, the old
    kind's keys stay behind), or suggest among this kind's own keys."""
    branches = _unwrap(model.model_fields["provider"].annotation) if "provider" in model.model_fields else []
    own = sorted(next((b.model_fields for b in branches if _tag(b) == kind), {}))
    others = [_tag(b) for b in branches if _tag(b) != kind and name in b.model_fields]
    if others:
        return (f"{name!r} is a setting of provider kind {' and '.join(others)}, not of {kind}; remove it "
                f"(the keys of {kind} are: {', '.join(own)})")
    allowed = ", ".join(own)
    return f"unknown key {name!r}{did_you_mean(name, own) or f'; allowed: {allowed}'}"


def _tag(model: type[BaseModel]) -> str:
    info = model.model_fields.get("kind")
    tags = typing.get_args(info.annotation) if info is not None else ()
    return str(tags[0]) if tags else model.__name__


def _drop_union_tags(loc: PathKey) -> PathKey:
    """Tagged unions add the tag (provider: local) to the loc; the YAML has no such level."""
    if len(loc) >= 2 and loc[0] == "provider" and loc[1] in PROVIDER_TAGS:
        return (loc[0], *loc[2:])
    return loc


def issues_from_validation(
    exc: ValidationError, model: type[BaseModel], view: DocumentView, strip: int = 0
) -> list[InputIssue]:
    """One located issue per pydantic error; `strip` drops wrapper keys we added to the loc."""
    issues = []
    for error in exc.errors():
        loc: PathKey = tuple(error["loc"])[strip:]
        loc = _drop_union_tags(loc)
        is_key = error["type"] == "extra_forbidden"
        issues.append(InputIssue(view.locate(loc, key=is_key), describe(error, model)))
    return issues
