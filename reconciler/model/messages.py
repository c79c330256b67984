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


def describe(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        name = str(loc[-1])
        options = allowed_keys(model, loc[:-1])
        hint = did_you_mean(name, options) or (f"; allowed: {', '.join(options)}" if options else "")
        return f"unknown key {name!r}{hint}"
    if kind == "missing":
        return f"missing required key {str(loc[-1])!r}"
    if kind == "string_pattern_mismatch":
        meaning = PATTERN_MEANINGS.get(ctx.get("pattern", ""), f"text matching {ctx.get('pattern')}")
        return f"{error['input']!r} is not {meaning}"
    if kind == "literal_error":
        value = error["input"]
        expected = ctx.get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        hint = did_you_mean(str(value), options)
        return f"{value!r} is not allowed here; use one of {expected}{hint}"
    if kind in TYPE_WORDS:
        return f"expected {TYPE_WORDS[kind]}, got {type(error['input']).__name__} {error['input']!r}"
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r}; use one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"missing key {ctx.get('discriminator', 'kind')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def _drop_union_tags(loc: PathKey) -> PathKey:
    """Tagged unions add the tag (provider: local) to the loc; the YAML has no such level."""
    if len(loc) >= 2 and loc[0] == "provider" and loc[1] in ("local", "google", "microsoft"):
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
