"""Request validation against the discovery documents google-api-python-client ships.

Every call is matched to a discovery method (HTTP method + path template); its query
parameters must be declared for that method or be one of the API's standard parameters,
typed values must parse, enums and ``minimum``/``maximum``/``pattern`` are enforced, required
parameters must be present, and a JSON body may only hold fields of the method's request
schema (recursively, following ``$ref``). Read-only fields are accepted: the real API ignores
them. Messages follow Google's own grammar (see errors.py).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import googleapiclient

from .errors import ApiError, invalid, invalid_argument, required

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
API_FILES = ("admin.directory_v1.json", "licensing.v1.json", "admin.datatransfer_v1.json", "admin.reports_v1.json",
             "gmail.v1.json", "groupssettings.v1.json")

# The Directory discovery document types these User fields as "any"; the service still parses
# them into its own messages, whose schemas the document does carry.
USER_ANY_FIELDS: dict[str, tuple[str, bool]] = {
    "addresses": ("UserAddress", True), "emails": ("UserEmail", True), "externalIds": ("UserExternalId", True),
    "ims": ("UserIm", True), "keywords": ("UserKeyword", True), "languages": ("UserLanguage", True),
    "locations": ("UserLocation", True), "organizations": ("UserOrganization", True), "phones": ("UserPhone", True),
    "posixAccounts": ("UserPosixAccount", True), "relations": ("UserRelation", True),
    "sshPublicKeys": ("UserSshPublicKey", True), "websites": ("UserWebsite", True),
    "gender": ("UserGender", False), "notes": ("UserAbout", False),
}

# Page-size limits that the documents only state in prose: the service silently caps these.
SILENT_CAPS = {"directory.groups.list": 200, "directory.members.list": 200}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass
class Method:
    id: str
    http_method: str
    template: str
    regex: re.Pattern[str]
    params: dict[str, dict[str, Any]]
    request: str | None
    response: str | None
    api: Api
    scopes: frozenset[str] = frozenset()  # a token needs one of these (the document's "scopes")

    @property
    def literal_weight(self) -> tuple[int, int]:
        """Sort key: templates with fewer variables (more literal) are tried first."""
        return (self.template.count("{"), -len(self.template))


@dataclass
class Api:
    name: str
    schemas: dict[str, dict[str, Any]]
    global_params: dict[str, dict[str, Any]]
    methods: list[Method] = field(default_factory=list)


@dataclass
class Match:
    method: Method
    path_params: dict[str, str]


def _template_regex(template: str) -> re.Pattern[str]:
    out = ""
    for piece in re.split(r"(\{\+?[A-Za-z_]+\})", template):
        if piece.startswith("{+"):
            out += f"(?P<{piece[2:-1]}>.+)"
        elif piece.startswith("{"):
            out += f"(?P<{piece[1:-1]}>[^/]+)"
        else:
            out += re.escape(piece)
    return re.compile(f"^/{out}$")


class Catalog:
    """All methods of the four Admin APIs, with their schemas."""

    def __init__(self) -> None:
        self.apis: list[Api] = []
        self.methods: list[Method] = []
        for filename in API_FILES:
            doc = json.loads((DOCUMENTS / filename).read_text())
            api = Api(doc["name"], doc["schemas"], doc["parameters"])
            self._collect(api, doc.get("resources", {}), doc.get("servicePath", ""))
            self.apis.append(api)
            self.methods.extend(api.methods)
        self.methods.sort(key=lambda m: m.literal_weight)
        self.by_id = {m.id: m for m in self.methods}

    def _collect(self, api: Api, resources: dict[str, Any], service_path: str) -> None:
        """Every method, its path under the API's service path (Groups Settings: groups/v1/groups/)."""
        for resource in resources.values():
            for desc in resource.get("methods", {}).values():
                template = service_path + desc["path"]
                api.methods.append(Method(
                    id=desc["id"], http_method=desc["httpMethod"], template=template,
                    regex=_template_regex(template), params=desc.get("parameters", {}),
                    request=(desc.get("request") or {}).get("$ref"), response=(desc.get("response") or {}).get("$ref"),
                    api=api, scopes=frozenset(desc.get("scopes", ()))))
            self._collect(api, resource.get("resources", {}), service_path)

    def match(self, http_method: str, path: str) -> Match | None:
        for method in self.methods:
            if method.http_method != http_method:
                continue
            found = method.regex.match(path)
            if found:
                params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
                if self._fits(method, params):
                    return Match(method, params)
        return None

    @staticmethod
    def _fits(method: Method, params: dict[str, str]) -> bool:
        """A ``{+name}`` template only matches paths its parameter's pattern allows."""
        for name, value in params.items():
            pattern = method.params.get(name, {}).get("pattern")
            if pattern and f"{{+{name}}}" in method.template and not re.fullmatch(pattern.strip("^$"), value):
                return False
        return True


# ----------------------------------------------------------------------------- parameters


def _convert(name: str, spec: dict[str, Any], raw: str) -> Any:
    kind = spec.get("type", "string")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            raise invalid_argument(f"Invalid value at '{snake(name)}' (TYPE_INT32), \"{raw}\"")
        value: Any = int(raw)
        low, high = spec.get("minimum"), spec.get("maximum")
        if (low is not None and value < int(low)) or (high is not None and value > int(high)):
            bounds = f"[{low if low is not None else ''}, {high if high is not None else ''}]"
            raise invalid(f"Invalid value '{raw}'. Values must be within the range: {bounds}", location=name)
        return value
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise invalid_argument(f"Invalid value at '{snake(name)}' (TYPE_BOOL), \"{raw}\"")
        return raw.lower() == "true"
    if "enum" in spec and raw not in spec["enum"]:
        raise invalid(f"Invalid value at '{snake(name)}' (TYPE_ENUM), \"{raw}\"", location=name)
    pattern = spec.get("pattern")
    if pattern and raw and not re.fullmatch(pattern, raw):
        raise invalid(f"Invalid value '{raw}'. Values must match the following regular expression: '{pattern}'",
                      location=name)
    return raw


def parse_params(match: Match, query: dict[str, list[str]]) -> dict[str, Any]:
    """The method's parameters (path and query), typed, after checking them against the document."""
    method = match.method
    values: dict[str, Any] = {}
    for name, raw_values in query.items():
        spec = method.params.get(name)
        if spec is not None and spec.get("location") == "query":
            values[name] = _convert(name, spec, raw_values[0])
        elif name in method.api.global_params:
            values[name] = _convert(name, method.api.global_params[name], raw_values[0])
        else:
            raise invalid_argument(
                f"Invalid JSON payload received. Unknown name \"{name}\": Cannot bind query parameter. "
                f"Field '{name}' could not be found in request message.")
    for name, raw in match.path_params.items():
        values[name] = _convert(name, method.params.get(name, {}), raw)
    for name, spec in method.params.items():
        if spec.get("required") and values.get(name) in (None, ""):
            raise required(name)
    return values


# ----------------------------------------------------------------------------- bodies

_TYPE_NAMES = {"string": "TYPE_STRING", "boolean": "TYPE_BOOL", "integer": "TYPE_INT32", "number": "TYPE_DOUBLE"}


class BodyChecker:
    """Checks a JSON request body against a schema of one API document."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def check(self, ref: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise invalid_argument("Invalid JSON payload received. Expected an object.")
        self._object(self.api.schemas[ref], value, "", ref)

    def _resolve(self, spec: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in spec:
            spec = self.api.schemas[spec["$ref"]]
        return spec

    def _object(self, schema: dict[str, Any], value: dict[str, Any], where: str, ref: str | None) -> None:
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            here = f"{where}.{key}" if where else key
            if props is not None and key in props:
                spec = props[key]
                if ref == "User" and key in USER_ANY_FIELDS:
                    target, repeated = USER_ANY_FIELDS[key]
                    spec = {"type": "array", "items": {"$ref": target}} if repeated else {"$ref": target}
                self._value(spec, item, here)
            elif extra is not None:
                self._value(extra, item, here)
            elif props is not None or schema.get("type") == "object":
                at = f" at '{where}'" if where else ""
                raise invalid_argument(f"Invalid JSON payload received. Unknown name \"{key}\"{at}: Cannot find field.")

    def _value(self, spec: dict[str, Any], item: Any, where: str) -> None:
        if item is None:
            return
        ref = spec.get("$ref")
        spec = self._resolve(spec)
        kind = spec.get("type")
        if kind == "object" or "properties" in spec:
            if not isinstance(item, dict):
                raise invalid_argument(f"Invalid value at '{where}' (TYPE_MESSAGE), {json.dumps(item)}")
            self._object(spec, item, where, ref)
        elif kind == "array":
            if not isinstance(item, list):
                raise invalid_argument(f"Invalid value at '{where}' (TYPE_LIST), {json.dumps(item)}")
            for index, element in enumerate(item):
                self._value(spec.get("items", {}), element, f"{where}[{index}]")
        elif kind in _TYPE_NAMES and not _scalar_ok(kind, spec, item):
            raise invalid_argument(f"Invalid value at '{where}' ({_TYPE_NAMES[kind]}), {json.dumps(item)}")


def _scalar_ok(kind: str, spec: dict[str, Any], item: Any) -> bool:
    if kind == "boolean":
        return isinstance(item, bool)
    if kind == "integer":
        return (isinstance(item, int) and not isinstance(item, bool)) or (isinstance(item, str) and item.isdigit())
    if kind == "number":
        return isinstance(item, int | float) and not isinstance(item, bool)
    numeric_string = spec.get("format") in ("int64", "uint64") and isinstance(item, int) and not isinstance(item, bool)
    return isinstance(item, str) or numeric_string


def check_body(method: Method, raw: bytes) -> dict[str, Any] | None:
    """The parsed JSON body, or None for a method that takes none; ApiError when it would be refused."""
    if method.request is None:
        return None
    text = raw.decode("utf-8") if raw else ""
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise invalid_argument(f"Invalid JSON payload received. {exc.args[0]}.") from None
    BodyChecker(method.api).check(method.request, body)
    return dict(body)


def check_required_fields(method: Method, body: dict[str, Any]) -> list[str]:
    """Dotted names of the fields the document marks required for this method that the body lacks."""
    missing: list[str] = []
    api = method.api

    def walk(ref: str, value: dict[str, Any], prefix: str) -> None:
        for key, spec in api.schemas[ref].get("properties", {}).items():
            if method.id in spec.get("annotations", {}).get("required", []):
                present = value.get(key) not in (None, "")
                if not present:
                    missing.append(prefix + key)
                elif "$ref" in spec and isinstance(value.get(key), dict):
                    walk(spec["$ref"], value[key], f"{prefix}{key}.")

    if method.request:
        walk(method.request, body, "")
    return missing


__all__ = ["ApiError", "Catalog", "Match", "Method", "check_body", "check_required_fields", "parse_params"]
