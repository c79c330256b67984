"""Turn pydantic's validation errors into located messages an admin can act on."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler import i18n
from reconciler.errors import InputIssue
from reconciler.i18n import N_, _, ngettext
from reconciler.model.suggest import closest, did_you_mean
from reconciler.model.types import PATTERN_MEANINGS
from reconciler.model.yamlsource import DocumentView, PathKey

# What each type error expected, as a whole sentence: "expected a whole number, got str 'x'".
TYPE_WORDS = {
    "string_type": N_("expected text, got {kind} {value}"),
    "int_type": N_("expected a whole number, got {kind} {value}"),
    "int_parsing": N_("expected a whole number, got {kind} {value}"),
    "float_type": N_("expected a number, got {kind} {value}"),
    "float_parsing": N_("expected a number, got {kind} {value}"),
    "bool_type": N_("expected true or false, got {kind} {value}"),
    "bool_parsing": N_("expected true or false, got {kind} {value}"),
    "list_type": N_("expected a list, got {kind} {value}"),
    "dict_type": N_("expected a mapping of keys to values, got {kind} {value}"),
    "model_type": N_("expected a mapping of keys to values, got {kind} {value}"),
    "model_attributes_type": N_("expected a mapping of keys to values, got {kind} {value}"),
    "date_type": N_("expected a date like 2026-12-31, got {kind} {value}"),
    "date_from_datetime_parsing": N_("expected a date like 2026-12-31, got {kind} {value}"),
    "date_parsing": N_("expected a date like 2026-12-31, got {kind} {value}"),
}

# pydantic's own sentences for the limits org/ files can break (`ge=0`, `max_length=256` ...),
# with the same placeholders as its context. English shows pydantic's message itself (so it stays
# as it was); another language says these.
LIMIT_WORDS = {
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "multiple_of": N_("Input should be a multiple of {multiple_of}"),
    "finite_number": N_("Input should be a finite number"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "int_parsing_size": N_("Unable to parse input string as an integer, exceeded maximum size"),
    "string_too_short": N_("String should have at least {min_length} characters"),
    "string_too_long": N_("String should have at most {max_length} characters"),
    "too_short": N_("List should have at least {min_length} items after validation, not {actual_length}"),
    "too_long": N_("List should have at most {max_length} items after validation, not {actual_length}"),
    "date_from_datetime_inexact": N_("Datetimes provided to dates should have zero time - e.g. be exact dates"),
    "invalid_key": N_("Keys should be strings"),
    "string_unicode": N_("Input should be a valid string, unable to parse raw data as a unicode string"),
    "recursion_loop": N_("Recursion error - cyclic reference detected"),
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
        _("<{kind} of {count} items>").format(kind=type(value).__name__, count=f"{len(value):,}"))
    if len(text) <= SHOWN_CHARS:
        return text
    if isinstance(value, str):
        return _("{start}... ({count} characters)").format(start=text[:SHOWN_CHARS - 20], count=f"{len(value):,}")
    return _("{start}... ({count} characters written out)").format(start=text[:SHOWN_CHARS - 20],
                                                                    count=f"{len(text):,}")


def describe(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        name = str(loc[-1])
        if len(loc) == 3 and loc[0] == "provider" and loc[1] in PROVIDER_TAGS:
            return _other_kinds_key(model, str(loc[1]), name)
        return _unknown_key(name, allowed_keys(model, loc[:-1]))
    if kind == "missing":
        return _("missing required key {name}").format(name=repr(str(loc[-1])))
    if kind == "string_pattern_mismatch":
        return _not_matching(error["input"], ctx.get("pattern", ""))
    if kind == "literal_error":
        value = error["input"]
        expected = ctx.get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        return _("{value} is not allowed here; use one of {expected}").format(
            value=shown(value), expected=_expected(expected)) + did_you_mean(str(value), options)
    if kind in TYPE_WORDS:
        return _wrong_type(kind, error["input"])
    if kind == "union_tag_invalid":
        return _("unknown kind {tag}; use one of {expected}").format(
            tag=repr(ctx.get("tag")), expected=_expected(str(ctx.get("expected_tags"))))
    if kind == "union_tag_not_found":
        return _("missing key {name}").format(name=ctx.get("discriminator", "kind"))
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in LIMIT_WORDS:
        return _limit(kind, error["msg"], ctx)
    return str(error["msg"])


def _not_matching(value: Any, pattern: str) -> str:
    meaning = PATTERN_MEANINGS.get(pattern)
    if meaning is None:
        return _("{value} is not text matching {pattern}").format(value=shown(value), pattern=pattern)
    return _(meaning).format(value=shown(value))


def _wrong_type(kind: str, value: Any) -> str:
    said = _(TYPE_WORDS[kind]).format(kind=type(value).__name__, value=shown(value))
    if kind == "string_type" and isinstance(value, int | float | bool):
        # YAML reads id: 2001 as a number (and 1e3, yes, on as more): quoting keeps it as written.
        return _("{said}; put it in quotes to mean the text: \"{value}\"").format(said=said, value=value)
    if kind in ("model_type", "dict_type") and isinstance(value, str) and "：" in value:
        return _("{said}; '：' is a full-width colon, which YAML does not read as one: type ':' and a "
                 "space").format(said=said)
    return said


def _expected(options: str) -> str:
    """pydantic's list of choices ("'a', 'b' or 'c'") with the language's word for "or"."""
    head, sep, last = options.rpartition(" or ")
    return _("{options} or {last}").format(options=head, last=last) if sep else options


def _limit(kind: str, message: str, ctx: dict[str, Any]) -> str:
    """A limit broken, in the reader's language; in English pydantic's own message, as it was."""
    template = _(LIMIT_WORDS[kind])
    if i18n.language() == i18n.SOURCE_LANGUAGE:
        return message
    values = {name: int(value) if isinstance(value, float) and value.is_integer() else value
              for name, value in ctx.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # a context pydantic changed: its own words rather than none
        return message


def _unknown_key(name: str, options: list[str]) -> str:
    if (found := closest(name, options)) is not None:
        return _("unknown key {name} (did you mean {suggestion}?)").format(name=repr(name), suggestion=repr(found))
    if options:
        return _("unknown key {name}; allowed: {allowed}").format(name=repr(name), allowed=", ".join(options))
    return _("unknown key {name}").format(name=repr(name))


PROVIDER_TAGS = ("local", "google", "microsoft", "exmail", "alimail")


def _other_kinds_key(model: type[BaseModel], kind: str, name: str) -> str:
    """A key of `provider:` the chosen kind lacks: say whose it is (after switching kinds, the old
    kind's keys stay behind), or suggest among this kind's own keys."""
    branches = _unwrap(model.model_fields["provider"].annotation) if "provider" in model.model_fields else []
    own = sorted(next((b.model_fields for b in branches if _tag(b) == kind), {}))
    others = [_tag(b) for b in branches if _tag(b) != kind and name in b.model_fields]
    if others:
        return _("{name} is a setting of provider kind {others}, not of {kind}; remove it (the keys of {kind} are: "
                 "{keys})").format(name=repr(name), others=_(" and ").join(others), kind=kind, keys=", ".join(own))
    return _unknown_key(name, own)


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
    exc: ValidationError, model: type[BaseModel], view: DocumentView, strip: int = 0, limit: int | None = None
) -> list[InputIssue]:
    """One located issue per pydantic error; `strip` drops wrapper keys we added to the loc.

    Past `limit`, the rest are counted in one line at the first of them: a domains.yaml that is a
    list of 275,000 strings made as many lines, and printing them took 50 s."""
    errors = exc.errors(include_url=False)
    shown = errors if limit is None else errors[:limit]
    issues = []
    for error in shown:
        loc: PathKey = tuple(error["loc"])[strip:]
        loc = _drop_union_tags(loc)
        is_key = error["type"] == "extra_forbidden"
        issues.append(InputIssue(view.locate(loc, key=is_key), describe(error, model)))
    if more := len(errors) - len(shown):
        first_unlisted = _drop_union_tags(tuple(errors[len(shown)]["loc"])[strip:])
        issues.append(InputIssue(view.locate(first_unlisted), ngettext(
            "{count} more problem in this file is not listed; fix the ones above first",
            "{count} more problems in this file are not listed; fix the ones above first", more).format(
                count=f"{more:,}")))
    return issues
