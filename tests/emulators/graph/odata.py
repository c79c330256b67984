"""OData query options as Graph reads them on directory collections.

``$filter`` is parsed into a small tree and evaluated in Python: comparisons (``eq ne gt ge lt
le``), ``in``, ``startswith``/``endswith``, ``and``/``or``/``not``, lambda ``any`` over
collections (``assignedLicenses/any(x:x/skuId eq {guid})``) and ``prop/$count``. String
comparisons ignore case, as the directory's do. ``ne``, ``not``, ``endswith`` and ``/$count``
are *advanced queries*: without ``ConsistencyLevel: eventual`` and ``$count=true`` Graph
refuses them, and so does this.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import errors

Node = tuple[Any, ...]
ADVANCED_OPERATORS = {"ne", "not", "endswith", "$count"}
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),:])|(?P<word>[^\s(),:']+))")


class FilterSyntaxError(Exception):
    pass


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterSyntaxError(text[position:])
        tokens.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the token list; produces tuples (see ``evaluate``)."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token.lower() != expected):
            raise FilterSyntaxError(f"expected {expected or 'a token'} at {token!r}")
        self.position += 1
        return token

    def parse(self) -> Node:
        node = self.expression()
        if self.peek() is not None:
            raise FilterSyntaxError(f"unexpected {self.peek()!r}")
        return node

    def expression(self) -> Node:
        items = [self.conjunction()]
        while (self.peek() or "").lower() == "or":
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else ("or", items)

    def conjunction(self) -> Node:
        items = [self.unary()]
        while (self.peek() or "").lower() == "and":
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else ("and", items)

    def unary(self) -> Node:
        token = (self.peek() or "").lower()
        if token == "not":
            self.take()
            return ("not", self.unary())
        if token == "(":
            self.take()
            node = self.expression()
            self.take(")")
            return node
        if token in ("startswith", "endswith"):
            self.take()
            self.take("(")
            path = self.path(self.take())
            self.take(",")
            value = self.literal()
            self.take(")")
            return ("func", token, path, value)
        return self.predicate()

    def predicate(self) -> Node:
        word = self.take()
        if word.lower().endswith("/any") and self.peek() == "(":
            return self.lambda_any(self.path(word[: -len("/any")]))
        path = self.path(word)
        operator = self.take().lower()
        if operator == "in":
            self.take("(")
            values = [self.literal()]
            while self.peek() == ",":
                self.take()
                values.append(self.literal())
            self.take(")")
            return ("in", path, values)
        if operator not in COMPARISONS:
            raise FilterSyntaxError(f"unknown operator {operator!r}")
        return ("cmp", operator, path, self.literal())

    def lambda_any(self, path: list[str]) -> Node:
        self.take("(")
        variable = self.take()
        self.take(":")
        body = self.expression()
        self.take(")")
        return ("any", path, variable, body)

    @staticmethod
    def path(word: str) -> list[str]:
        if not re.fullmatch(r"[A-Za-z_$][\w$]*(/[A-Za-z_$][\w$]*)*", word):
            raise FilterSyntaxError(f"bad property path {word!r}")
        return word.split("/")

    def literal(self) -> Any:
        token = self.take()
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        lowered = token.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        if re.fullmatch(r"[0-9a-fA-F-]{36}|\d{4}-\d\d-\d\dT[\d:.]+Z?", token):
            return token
        raise FilterSyntaxError(f"bad literal {token!r}")


# ----------------------------------------------------------------------------- evaluation


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _resolve(path: list[str], item: Mapping[str, Any], env: Mapping[str, Any]) -> Any:
    head, *rest = path
    value: Any = env[head] if head in env else item.get(head)
    for name in rest:
        if name == "$count":
            return len(value or [])
        value = value.get(name) if isinstance(value, Mapping) else None
    return value


def _compare(operator: str, left: Any, right: Any) -> bool:
    left, right = _fold(left), _fold(right)
    if operator == "eq":
        return bool(left == right)
    if operator == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool({"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[operator])
    except TypeError:
        return False


def evaluate(node: Node, item: Mapping[str, Any], env: Mapping[str, Any] | None = None) -> bool:
    env = env or {}
    kind = node[0]
    if kind == "or":
        return any(evaluate(child, item, env) for child in node[1])
    if kind == "and":
        return all(evaluate(child, item, env) for child in node[1])
    if kind == "not":
        return not evaluate(node[1], item, env)
    if kind == "cmp":
        return _compare(node[1], _resolve(node[2], item, env), node[3])
    if kind == "in":
        value = _fold(_resolve(node[1], item, env))
        return value in [_fold(candidate) for candidate in node[2]]
    if kind == "func":
        value, prefix = _fold(_resolve(node[2], item, env)), _fold(node[3])
        if not isinstance(value, str) or not isinstance(prefix, str):
            return False
        return value.startswith(prefix) if node[1] == "startswith" else value.endswith(prefix)
    collection = _resolve(node[1], item, env) or []
    return any(evaluate(node[3], item, {**env, node[2]: element}) for element in collection)


def _walk(node: Node, variables: frozenset[str] = frozenset()) -> Iterable[tuple[str, str]]:
    """Yield ("property", name) for each top-level property and ("operator", op) for each operator."""
    kind = node[0]
    if kind in ("or", "and"):
        for child in node[1]:
            yield from _walk(child, variables)
        return
    if kind == "not":
        yield ("operator", "not")
        yield from _walk(node[1], variables)
        return
    path = node[2] if kind in ("cmp", "func") else node[1]
    if path[0] not in variables:
        yield ("property", path[0])
    if path[-1] == "$count":
        yield ("operator", "$count")
    if kind in ("cmp", "func"):
        yield ("operator", node[1])
    elif kind == "any":
        yield from _walk(node[3], variables | {node[2]})


# ----------------------------------------------------------------------------- query options


@dataclass
class Query:
    select: list[str] | None = None
    filter: Node | None = None
    top: int | None = None
    count: bool = False
    offset: int = 0
    expand: dict[str, list[str] | None] = field(default_factory=dict)
    orderby: tuple[str, bool] | None = None
    search: tuple[str, str] | None = None
    passthrough: dict[str, str] = field(default_factory=dict)

    def matches(self, item: Mapping[str, Any]) -> bool:
        return self.filter is None or evaluate(self.filter, item)


@dataclass(frozen=True)
class Resource:
    """What a collection allows: its model (for names), filterable properties, ``$expand`` targets."""

    name: str                        # "User", as Graph words it in errors
    model: str                       # schema model for property names
    filterable: frozenset[str]
    expandable: frozenset[str] = frozenset()
    sortable: frozenset[str] = frozenset({"displayName"})
    # (property, operator) pairs Graph takes only as advanced queries, beyond ADVANCED_OPERATORS:
    # Microsoft's table of filters on directory objects marks them per property (accountEnabled
    # `ge`, companyName `eq`...), and where its pages disagree a test sets the stricter reading.
    advanced_pairs: frozenset[tuple[str, str]] = frozenset()


def parse(raw: Mapping[str, str], headers: Mapping[str, str], *, resource: Resource | None,
          allowed: Iterable[str], known: Callable[[str], frozenset[str]]) -> Query:
    """Check the ``$`` options against what the endpoint allows and parse them."""
    allowed_set = set(allowed) | {"$skiptoken"}
    for name in raw:
        if name.startswith("$") and name not in allowed_set:
            raise errors.unsupported_option(name)
    advanced = headers.get("consistencylevel", "").lower() == "eventual"
    query = Query(passthrough={k: v for k, v in raw.items() if k != "$skiptoken"})
    query.count = advanced and raw.get("$count", "").lower() == "true"
    if "$top" in raw:
        query.top = _top(raw["$top"])
    if "$skiptoken" in raw:
        query.offset = decode_token(raw["$skiptoken"]).get("offset", 0)
    if resource is not None:
        names = known(resource.model)
        if "$select" in raw:
            query.select = _select(raw["$select"], names)
        if "$filter" in raw:
            query.filter = _filter(raw["$filter"], resource, names, advanced and query.count)
        if "$expand" in raw:
            query.expand = _expand(raw["$expand"], resource)
        if "$orderby" in raw:
            query.orderby = _orderby(raw["$orderby"], resource)
        if "$search" in raw:
            query.search = _search(raw["$search"], advanced)
    return query


def _top(text: str) -> int:
    try:
        top = int(text)
    except ValueError:
        raise errors.unsupported_query(f"Invalid page size specified: '{text}'. Must be between 1 and 999 "
                                       "inclusive.") from None
    if not 1 <= top <= 999:
        raise errors.unsupported_query(f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.")
    return top


def _select(text: str, names: frozenset[str]) -> list[str]:
    selected = [name.strip() for name in text.split(",") if name.strip()]
    for name in selected:
        if name not in names:
            raise errors.unknown_property(name)
    return selected


def _filter(text: str, resource: Resource, names: frozenset[str], advanced: bool) -> Node:
    try:
        tree = _Parser(text).parse()
    except FilterSyntaxError:
        raise errors.bad_request(f"Invalid filter clause: {text}") from None
    for kind, value in _walk(tree):
        if kind == "property" and value not in names:
            raise errors.unknown_property(value)
        if kind == "property" and value not in resource.filterable:
            raise errors.unfilterable(value, resource.name)
        if kind == "operator" and value in ADVANCED_OPERATORS and not advanced:
            raise errors.advanced_query_needed(value)
    if not advanced:
        for name, operator in _comparisons(tree):
            if (name, operator) in resource.advanced_pairs:
                raise errors.advanced_query_needed(operator)
    return tree


def _comparisons(node: Node) -> Iterable[tuple[str, str]]:
    """(property, operator) of each comparison outside a lambda."""
    if node[0] in ("or", "and"):
        for child in node[1]:
            yield from _comparisons(child)
    elif node[0] == "not":
        yield from _comparisons(node[1])
    elif node[0] in ("cmp", "func"):
        yield node[2][0], node[1]


def _expand(text: str, resource: Resource) -> dict[str, list[str] | None]:
    """``name`` or ``name($select=a,b;$levels=1)``; directory objects expand one relationship at most."""
    items = [item.strip() for item in re.split(r",(?![^()]*\))", text) if item.strip()]
    if len(items) > 1:
        raise errors.GraphError(400, "BadRequest", f"The result of parsing $expand contained at least {len(items)} "
                                "items, but the maximum allowed is 1.")
    expanded: dict[str, list[str] | None] = {}
    for item in items:
        match = re.fullmatch(r"(\w+)(?:\(([^()]*)\))?", item)
        if match is None:
            raise errors.bad_request(f"Invalid $expand clause: {text}")
        name, options = match.group(1), match.group(2) or ""
        if name not in resource.expandable:
            raise errors.bad_request(f"Parsing OData Select and Expand failed: Could not find a property named "
                                     f"'{name}' on type 'microsoft.graph.{resource.model}'.")
        select: list[str] | None = None
        for option in filter(None, (part.strip() for part in options.split(";"))):
            key, _, value = option.partition("=")
            if key == "$select":
                select = [field.strip() for field in value.split(",") if field.strip()]
            elif key != "$levels" or value != "1":
                raise errors.unsupported_query(f"Unsupported $expand option '{option}'.")
        expanded[name] = select
    return expanded


def _orderby(text: str, resource: Resource) -> tuple[str, bool]:
    parts = text.split()
    if not parts or len(parts) > 2 or parts[0] not in resource.sortable or (
            len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise errors.unsupported_query("Sorting not supported for current query.")
    return parts[0], len(parts) == 2 and parts[1].lower() == "desc"


def _search(text: str, advanced: bool) -> tuple[str, str]:
    if not advanced:
        raise errors.unsupported_query("Request with $search query parameter only works through MSGraph with a "
                                       "special request header: 'ConsistencyLevel: eventual'")
    match = re.fullmatch(r'"(\w+):([^"]*)"', text.strip())
    if match is None:
        raise errors.bad_request(f"Invalid $search clause: {text}")
    return match.group(1), match.group(2)


# ----------------------------------------------------------------------------- paging and projection


def encode_token(state: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise errors.bad_request("Invalid paging token.") from None
    if not isinstance(state, dict):
        raise errors.bad_request("Invalid paging token.")
    return state


def project(item: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: item.get(name) for name in names}
