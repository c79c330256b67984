"""Google's JSON error bodies, and the exception the handlers raise to produce one.

The shape is the one the Admin SDK answers with (the Admin SDK's documented error format):
``{"error": {"code": N, "message": "...", "errors": [{"domain": "global", "reason": "...",
"message": "..."}]}}``. Errors that Google's front end (ESF) produces itself while parsing a
request -- unknown fields and parameters, values of the wrong type, quota -- also carry
``"status"`` (``INVALID_ARGUMENT``, ``RESOURCE_EXHAUSTED``), as the real service does.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    """An error answer: HTTP status, Google ``reason`` and message (and optional gRPC status)."""

    def __init__(self, code: int, reason: str, message: str, *, status: str | None = None,
                 location: str | None = None, detail_message: str | None = None,
                 details: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.status = status
        self.location = location
        self.detail_message = detail_message  # errors[0].message, where Google words it apart from the top
        self.details = details  # google.rpc details (ErrorInfo), as newer front ends add them
        self.headers = headers or {}  # answer headers besides Content-Type (WWW-Authenticate)

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"message": self.detail_message or self.message, "domain": "global",
                                  "reason": self.reason}
        if self.location is not None:
            detail["locationType"] = "header" if self.location == "Authorization" else "parameter"
            detail["location"] = self.location
        error: dict[str, Any] = {"code": self.code, "message": self.message, "errors": [detail]}
        if self.status is not None:
            error["status"] = self.status
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}

    def payload(self) -> bytes:
        return json.dumps(self.body(), indent=2).encode()


# ----------------------------------------------------------------------------- constructors


def not_found(what: str) -> ApiError:
    """404 as the Directory API words it: ``Resource Not Found: userKey``."""
    return ApiError(404, "notFound", f"Resource Not Found: {what}")


def duplicate(message: str = "Entity already exists.") -> ApiError:
    return ApiError(409, "duplicate", message)


def invalid(message: str, *, location: str | None = None) -> ApiError:
    return ApiError(400, "invalid", message, location=location)


def required(name: str) -> ApiError:
    return ApiError(400, "required", f"Required parameter: {name}", location=name)


def bad_request(message: str = "Bad Request") -> ApiError:
    return ApiError(400, "badRequest", message)


def condition_not_met(message: str, code: int = 412) -> ApiError:
    return ApiError(code, "conditionNotMet", message)


def invalid_argument(message: str) -> ApiError:
    """What Google's front end answers when the request does not parse into the API's types."""
    return ApiError(400, "badRequest", message, status="INVALID_ARGUMENT")


def user_creation_not_complete() -> ApiError:
    return condition_not_met("User creation is not complete.")


def user_rate_limit(project: str = "project_number:000000000000") -> ApiError:
    return ApiError(403, "userRateLimitExceeded",
                    "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of "
                    f"service 'admin.googleapis.com' for consumer '{project}'.")


def rate_limit() -> ApiError:
    return ApiError(429, "rateLimitExceeded", "Rate Limit Exceeded", status="RESOURCE_EXHAUSTED")


def insufficient_scopes(service: str, scopes: frozenset[str]) -> ApiError:
    """A token without any scope the method accepts: what Google's front end answers (403, and the
    scopes the method takes in WWW-Authenticate)."""
    return ApiError(
        403, "insufficientPermissions", "Request had insufficient authentication scopes.",
        detail_message="Insufficient Permission", status="PERMISSION_DENIED",
        details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                  "domain": "googleapis.com", "metadata": {"service": service}}],
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="insufficient_scope", '
                                     f'scope="{" ".join(sorted(scopes))}"'})


def invalid_credentials() -> ApiError:
    """A bearer token the service never issued (or one that expired)."""
    return ApiError(
        401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        detail_message="Invalid Credentials", status="UNAUTHENTICATED", location="Authorization",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'})


def missing_credentials() -> ApiError:
    """A call with no Authorization at all."""
    return ApiError(
        401, "required", "Request is missing required authentication credential. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        detail_message="Login Required.", status="UNAUTHENTICATED", location="Authorization",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})


def html_not_found(path: str) -> bytes:
    """Google's front end answers an unknown URL with an HTML page, not JSON."""
    return (
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
        "  <title>Error 404 (Not Found)!!1</title>\n"
        f"  <p><b>404.</b> <ins>That's an error.</ins>\n  <p>The requested URL <code>{path}</code> "
        "was not found on this server.  <ins>That's all we know.</ins>\n"
    ).encode()


# Google's front end when the service behind it is down: 503 with an HTML page, not the API's JSON.
HTML_UNAVAILABLE = (
    b"<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
    b"  <title>Error 503 (Service Unavailable)!!1</title>\n"
    b"  <p><b>503.</b> <ins>That's an error.</ins>\n"
    b"  <p>The service you requested is not available at this time.<p>Service error -27.  <ins>That's all we "
    b"know.</ins>\n"
)


def reason_phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"
