"""The committed JSON Schemas: in sync with the models, referenced by every org/ file, and right."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.model.schemas import render_schema, schema_documents
from tests.conftest import EXAMPLE_ORG

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
ORG = EXAMPLE_ORG  # the example company of the tests, laid out as a repository's org/ beside schemas/
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")

# Which schema each kind of org/ file must point to.
TOP_FILES = {
    "org.yaml": "org.schema.json",
    "domains.yaml": "domains.schema.json",
    "naming.yaml": "naming.schema.json",
    "permissions.yaml": "permissions.schema.json",
    "departments.yaml": "departments.schema.json",
}
FOLDERS = {"users": "user.schema.json", "groups": "group.schema.json"}


def example_files() -> list[tuple[Path, str]]:
    """Every YAML file of the example org/, with the schema it must use."""
    files = [(ORG / name, schema) for name, schema in TOP_FILES.items()]
    for folder, schema in FOLDERS.items():
        files += [(path, schema) for path in sorted((ORG / folder).glob("*.yaml"))]
    return files


def _id(item: tuple[Path, str]) -> str:
    return item[0].relative_to(ORG).as_posix()


EXAMPLES = example_files()


def test_the_example_org_has_every_kind_of_file() -> None:
    assert len([p for p, _ in EXAMPLES if p.parent.name == "users"]) == 50
    assert [p for p, _ in EXAMPLES if p.parent.name == "groups"]
    assert all(path.is_file() for path, _ in EXAMPLES)
    # No YAML file the mapping above does not know about (it would escape these checks).
    on_disk = {p for p in ORG.rglob("*") if p.suffix in (".yaml", ".yml")}
    assert on_disk == {path for path, _ in EXAMPLES}


def test_committed_schemas_are_generated_from_the_models() -> None:
    documents = schema_documents()
    committed = {p.name for p in SCHEMAS.glob("*.schema.json")}
    assert committed == set(documents), "schemas/ does not hold exactly the generated schemas; run `make schemas`"
    stale = [name for name, schema in documents.items()
             if (SCHEMAS / name).read_text(encoding="utf-8") != render_schema(schema)]
    assert stale == [], f"schemas/ is out of date with reconciler/model ({', '.join(stale)}); run `make schemas`"


def test_every_schema_maps_to_an_org_file_kind() -> None:
    assert set(schema_documents()) == set(TOP_FILES.values()) | set(FOLDERS.values())


def test_schemas_are_well_formed() -> None:
    for name, schema in schema_documents().items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == name
        # Unknown keys are errors for editors too, as they are for `reconciler validate`.
        text = json.dumps(schema)
        assert '"additionalProperties": false' in text, name


@pytest.mark.parametrize(("path", "schema"), EXAMPLES, ids=[_id(e) for e in EXAMPLES])
def test_first_line_points_to_the_right_schema(path: Path, schema: str) -> None:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    match = MODELINE.match(first)
    assert match, f"{_id((path, schema))}: first line is {first!r}, not a yaml-language-server $schema line"
    # As in a repository: org/ beside schemas/, so the path climbs out of org/ (and out of users/ or groups/).
    depth = len(path.relative_to(ORG).parts)
    assert match.group(1) == "../" * depth + "schemas/" + schema
    assert (SCHEMAS / schema).is_file()


def _as_editors_see_it(value: Any) -> Any:
    """YAML dates as the strings an editor's JSON Schema check sees (yaml-language-server is YAML 1.2)."""
    if isinstance(value, dict):
        return {k: _as_editors_see_it(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_editors_see_it(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.mark.parametrize(("path", "schema"), EXAMPLES, ids=[_id(e) for e in EXAMPLES])
def test_example_validates_against_its_schema(path: Path, schema: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    document = json.loads((SCHEMAS / schema).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(document, format_checker=jsonschema.FormatChecker())
    data = _as_editors_see_it(yaml.safe_load(path.read_text(encoding="utf-8")))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


def test_schemas_are_valid_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for name in schema_documents():
        jsonschema.Draft202012Validator.check_schema(json.loads((SCHEMAS / name).read_text(encoding="utf-8")))


def test_schemas_reject_what_the_loader_rejects() -> None:
    """The schema is what editors check with: an unknown key or a wrong type is flagged there too."""
    jsonschema = pytest.importorskip("jsonschema")
    user = json.loads((SCHEMAS / "user.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(user)
    good = {"id": "E1001", "given_name": "三", "family_name": "张"}
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors([good, good])) == []
    assert list(validator.iter_errors({**good, "departmnet": "sales"})) != []
    assert list(validator.iter_errors({**good, "aliases": "san.zhang"})) != []
    assert list(validator.iter_errors({"given_name": "三"})) != []  # no id
