"""Requests, responses and the route table the endpoint modules register into.

A ``Request`` is one Graph call, whether it came over HTTP or inside a ``$batch``; ``dispatch``
finds its route and runs the handler. Paths are relative to the version root (``/users/...``)
and already percent-decoded segment by segment.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import errors, odata, schema
from .state import Store

_SAFE = "$,()'=:@/"
# A page of directory objects with $expand holds at most 100 of them, whatever $top says
# (Graph's known issue "$expand on directory objects returns a maximum of 100 objects").
EXPAND_PAGE = 100
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]          # lower-case names
    body: Any = None
    base: str = ""                   # "http://127.0.0.1:PORT/v1.0", for links


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    cost: int


ROUTES: list[Route] = []


def route(method: str, template: str, *, cost: int = 1) -> Callable[[Handler], Handler]:
    """Register a handler for ``METHOD /template``; ``{name}`` matches one path segment.

    ``cost`` is the base resource-unit cost Graph documents for identity requests (1 when not
    listed). Routes are tried in registration order, so fixed segments go before ``{key}``.
    """
    regex = "".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
                    for part in re.split(r"(\{\w+\})", template))

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, template, re.compile(regex + "$"), handler, cost))
        return handler
    return register


def find(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for ``method path``: 405 if the path exists for other methods, 400 if not at all."""
    path_matches = False
    for candidate in sorted(ROUTES, key=lambda r: r.template.count("{")):     # fixed segments win
        match = candidate.pattern.match(path)
        if match is None:
            continue
        path_matches = True
        if candidate.method == method:
            return candidate, match.groupdict()
    if path_matches:
        raise errors.method_not_allowed()
    segments = [segment for segment in path.split("/") if segment]
    raise errors.segment_not_found(segments[-1] if segments else "")


def dispatch(store: Store, request: Request) -> tuple[Route, Response]:
    found, params = find(request.method, request.path)
    return found, found.handler(store, request, **params)


# ----------------------------------------------------------------------------- helpers for handlers


def query(request: Request, resource: odata.Resource | None, allowed: tuple[str, ...]) -> odata.Query:
    return odata.parse(request.query, request.headers, resource=resource, allowed=allowed, known=schema.fields)


def context(request: Request, fragment: str) -> str:
    return f"{request.base}/$metadata#{fragment}"


def json_response(status: int, body: Mapping[str, Any] | None) -> Response:
    return Response(status, dict(body) if body is not None else None)


def no_content() -> Response:
    return Response(204)


def page(request: Request, items: list[dict[str, Any]], q: odata.Query, *, default_top: int, fragment: str,
         render: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    """A collection page with ``@odata.nextLink`` (absolute, back to this server) when more remain."""
    matching = [item for item in items if q.matches(item)]
    if q.orderby is not None:
        name, descending = q.orderby
        matching.sort(key=lambda item: (item.get(name) or "").lower(), reverse=descending)
    top = q.top or default_top
    if q.expand:
        top = min(top, EXPAND_PAGE)  # whatever $top asks: the next link carries on from there
    chunk = matching[q.offset:q.offset + top]
    body: dict[str, Any] = {"@odata.context": context(request, fragment)}
    if q.count:
        body["@odata.count"] = len(matching)
    if q.offset + top < len(matching):
        body["@odata.nextLink"] = next_link(request, q.passthrough, {"offset": q.offset + top})
    body["value"] = [render(item) for item in chunk]
    return Response(200, body)


def next_link(request: Request, options: Mapping[str, str], state: Mapping[str, Any], *,
              token_name: str = "$skiptoken", path: str | None = None) -> str:
    params = [f"{name}={urllib.parse.quote(value, safe=_SAFE)}" for name, value in options.items()
              if name not in ("$skiptoken", "$deltatoken")]
    params.append(f"{token_name}={odata.encode_token(state)}")
    return f"{request.base}{path or request.path}?" + "&".join(params)


def reference_id(body: Any) -> str:
    """The object id at the end of an ``@odata.id`` reference (directoryObjects, users or groups)."""
    schema.check_body("referenceCreate", body, resource="Reference")
    target = body.get("@odata.id")
    if not isinstance(target, str):
        raise errors.required_property("@odata.id")
    match = re.search(r"/(?:directoryObjects|users|groups)/([^/?]+)$", target)
    if match is None:
        raise errors.bad_request(f"Invalid URL format specified in @odata.id: {target}")
    return match.group(1)


def select_view(item: Mapping[str, Any], q: odata.Query, default: tuple[str, ...]) -> dict[str, Any]:
    view = odata.project(item, q.select or default)
    if "passwordProfile" in view:
        # Graph never returns a password; the profile reads null unless a reset asked for a new
        # password at the next sign-in (microsoftgraph/microsoft-graph-docs#13208).
        profile = view["passwordProfile"] or {}
        view["passwordProfile"] = {"password": None, **{k: v for k, v in profile.items() if k != "password"}} \
            if profile.get("forceChangePasswordNextSignIn") else None
    return view
