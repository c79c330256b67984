"""`reconciler config get KEY`: one setting of org.yaml, with the schema's defaults applied.

Scripts and the CI workflows need a setting or two (the provider's kind, the
local directory file's path) before anything else runs. Reading org.yaml with
`yaml.safe_load(...)["provider"]` breaks as soon as org.yaml leaves a block out
and relies on its default (no `provider:` means the embedded local provider),
and shows a traceback for a broken file. Here org.yaml is read and validated
the way `reconciler validate` reads it (the same `org/org.yaml:LINE:COL: ...`
messages), and the key is looked up in the validated `OrgFile`, so every
default is applied and a key the schema does not have is an error, never an
empty answer. Only org.yaml has to be valid, not the rest of org/.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from reconciler.errors import UserError
from reconciler.i18n import _
from reconciler.model.files import OrgFile
from reconciler.model.messages import allowed_keys
from reconciler.model.suggest import closest


def lookup(settings: OrgFile, key: str) -> Any:
    """The value at a dotted key (`safety.max_deletes`, `provider.service_groups.mail`) as JSON-ready data.

    None where nothing is set and the schema has no default (`defaults.profile`,
    anything under an `onboarding:` that org.yaml leaves out). A number steps
    into a list (`safety.protected.0`); past its end is None too.
    """
    parts = key.split(".")
    if not all(part.strip() for part in parts):
        raise UserError(_("{key} is not a key; join the keys of org.yaml with dots, like provider.kind").format(
            key=repr(key)))
    value: Any = settings
    annotation: Any = OrgFile  # the schema's type of `value`, for the keys a mapping may have
    for depth, part in enumerate(parts):
        here = tuple(parts[:depth])
        if isinstance(value, BaseModel):
            value, annotation = _field(value, annotation, part, here)
        elif isinstance(value, dict):
            key_type, annotation = typing.get_args(annotation) or (None, None)
            if typing.get_origin(key_type) is Literal and part not in typing.get_args(key_type):
                raise _unknown(part, typing.get_args(key_type), here)
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
            annotation = (typing.get_args(annotation) or (None,))[0]
        elif value is None and (schema_keys := allowed_keys(OrgFile, here)):
            # Under a block that org.yaml leaves out and the schema gives no default: all of it is null.
            if part not in schema_keys:
                raise _unknown(part, schema_keys, here)
            annotation = None
        else:
            whole = ".".join(here)
            if isinstance(value, list):
                message = _("{whole} is a list (ask for {first}, or for the whole list): it has no key {part}")
            else:
                message = _("{whole} is one value: it has no key {part}")
            raise UserError(message.format(whole=repr(whole), first=f"{whole}.0", part=repr(part)))
    return to_jsonable_python(value)


def _field(model: BaseModel, annotation: Any, part: str, here: tuple[str, ...]) -> tuple[Any, Any]:
    """The field `part` of `model`, and its type in the schema."""
    fields = type(model).model_fields
    if part in fields:
        return getattr(model, part), fields[part].annotation
    if part not in (schema_keys := allowed_keys(OrgFile, here)):
        raise _unknown(part, schema_keys, here, listed=fields)
    # The schema has it in another branch of a union: a setting of another provider kind.
    having = [_kind(cls) for cls in typing.get_args(annotation) if part in getattr(cls, "model_fields", {})]
    raise UserError(_("{key}: org.yaml's {parent} is {kind}, which has no {part} (a setting of {others} "
                      "only)").format(key=repr(".".join((*here, part))), parent=".".join(here),
                                      kind=_kind(type(model)), part=repr(part), others=_(" and ").join(having)))


def _kind(cls: type[BaseModel]) -> str:
    """A union branch by its tag: 'local' for LocalProviderConfig."""
    kind = cls.model_fields.get("kind")
    tags = typing.get_args(kind.annotation) if kind is not None else ()
    return str(tags[0]) if tags else cls.__name__


def _unknown(part: str, options: Iterable[str], here: tuple[str, ...],
             listed: Iterable[str] | None = None) -> UserError:
    """A key the schema does not have: the closest of `options`, else the keys that are there (`listed`)."""
    prefix = "".join(f"{p}." for p in here)
    if (found := closest(part, options)) is not None:
        return UserError(_("unknown key {name} (did you mean {suggestion}?)").format(
            name=repr(prefix + part), suggestion=repr(prefix + found)))
    keys = ", ".join(sorted(options if listed is None else listed))
    if here:
        return UserError(_("unknown key {name}; the keys under {parent} are: {keys}").format(
            name=repr(prefix + part), parent=".".join(here), keys=keys))
    return UserError(_("unknown key {name}; the keys at the top of org.yaml are: {keys}").format(
        name=repr(prefix + part), keys=keys))


def render(value: Any, fmt: Literal["text", "json"] = "text") -> str:
    """What to print for a value from `lookup`.

    text: a string plain, a number as written, a boolean as true/false, null as
    an empty line (so `$(reconciler config get ...)` is empty), a mapping or a
    list as one line of JSON. json: JSON for everything (null is `null`).
    """
    if fmt == "json" or not (value is None or isinstance(value, str)):
        return json.dumps(value, ensure_ascii=False) + "\n"
    return ("" if value is None else value) + "\n"
