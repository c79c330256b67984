"""JSON Schemas of the org/ files, generated from the models (committed in schemas/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from reconciler.model.files import SCHEMA_FILES, Department, DomainEntry, GroupEntry, UserEntry

# What each file holds at its top level: domains.yaml and departments.yaml are bare
# lists, and a users/ or groups/ file holds one entry or a list of them.
TOP_LEVEL: dict[str, Any] = {
    "domains.schema.json": list[DomainEntry],
    "departments.schema.json": list[Department],
    "user.schema.json": UserEntry | list[UserEntry],
    "group.schema.json": GroupEntry | list[GroupEntry],
}


def schema_documents() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for name, model in SCHEMA_FILES.items():
        schema = TypeAdapter[Any](TOP_LEVEL.get(name, model)).json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = name
        schema.setdefault("title", name.split(".")[0])
        docs[name] = schema
    return docs


def render_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schema_documents().items():
        path = folder / name
        path.write_text(render_schema(schema), encoding="utf-8")
        written.append(path)
    return written
