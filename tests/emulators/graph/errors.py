"""Microsoft Graph's JSON error bodies, and the exception handlers raise to produce one.

The shape is Graph's: ``{"error": {"code": "...", "message": "...", "innerError": {"date",
"request-id", "client-request-id"}}}``, with ``details`` for conflicts. Directory errors carry
Azure AD's codes (``Request_BadRequest``, ``Request_ResourceNotFound``,
``Request_UnsupportedQuery``, ``Authorization_RequestDenied``); errors raised by Graph's front
door itself (unknown segment, wrong version, batch format) carry ``BadRequest``.

Each message below was checked against public sources; the ones marked "unconfirmed" in the
constructor's docstring are our best reading and say so.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any


class GraphError(Exception):
    """An error answer: HTTP status, Graph error code, message, optional details and headers."""

    def __init__(self, status: int, code: str, message: str, *, details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})

    def body(self, client_request_id: str | None = None) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        error["innerError"] = {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": client_request_id or request_id,
        }
        return {"error": error}


# ----------------------------------------------------------------------------- directory errors


def not_found(key: str) -> GraphError:
    """The directory's 404 for any object, relationship or reference that is not there."""
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{key}' does not exist or one of its queried reference-property objects "
                      "are not present.")


def bad_request(message: str) -> GraphError:
    return GraphError(400, "Request_BadRequest", message)


def unsupported_query(message: str) -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def required_property(name: str) -> GraphError:
    return bad_request(f"Property {name} value is required but is empty or missing.")


def invalid_value(name: str, resource: str) -> GraphError:
    return bad_request(f"Invalid value specified for property '{name}' of resource '{resource}'.")


def read_only(name: str) -> GraphError:
    return bad_request(f"Property '{name}' is read-only and cannot be set.")


def invalid_property(name: str) -> GraphError:
    """A body property the type does not declare (unconfirmed wording; the code is Azure AD's)."""
    if name.startswith("extension_"):
        return bad_request(f"The following extension properties are not available: {name}.")
    return bad_request(f"Invalid property '{name}'.")


def conflict(prop: str, other_kind: str, other_id: str) -> GraphError:
    """``ObjectConflict``: 400 ``Request_BadRequest`` with the conflict in ``details``."""
    message = f"Another object with the same value for property {prop} already exists."
    return GraphError(400, "Request_BadRequest", message, details=[
        {"code": "ObjectConflict", "message": message, "target": prop},
        {"code": "ConflictingObjects", "message": message, "target": f"{other_kind}_{other_id}"},
    ])


def conflicting_object() -> GraphError:
    return bad_request("A conflicting object with one or more of the specified property values is present in "
                       "the directory.")


def reference_exists(relation: str) -> GraphError:
    return bad_request(f"One or more added object references already exist for the following modified "
                       f"properties: '{relation}'.")


def reference_missing(relation: str) -> GraphError:
    return bad_request(f"One or more removed object references do not exist for the following modified "
                       f"properties: '{relation}'.")


def plan_dependency(plan_id: str, needs: tuple[str, ...]) -> GraphError:
    """assignLicense leaving a plan on whose prerequisite is off (wording as Graph returns it)."""
    return bad_request(f"License assignment failed because service plan {plan_id} depends on the service "
                       f"plan(s) {','.join(needs)}")


def authorization_denied() -> GraphError:
    """An app without the permission or directory role an operation needs."""
    return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def permission_missing(permission: str) -> GraphError:
    """What the audit log sources (signInActivity, authentication methods reports) answer instead."""
    return GraphError(403, "Authentication_MSGraphPermissionMissing",
                      f"Calling principal does not have required MSGraph permissions {permission}")


def mail_enabled_read_only() -> GraphError:
    return bad_request("Cannot Update a mail-enabled security groups and or distribution list.")


def mail_enabled_create() -> GraphError:
    return bad_request("The service does not currently support writes of mail-enabled groups. Please ensure that "
                       "the mail-enablement property is unset and the security-enablement property is set.")


def invalid_object_id(key: str) -> GraphError:
    return bad_request(f"Invalid object identifier '{key}'.")


def unknown_property(name: str) -> GraphError:
    """A ``$select`` or ``$filter`` on a property the type does not have."""
    return unsupported_query(f"Property '{name}' does not exist as a declared property or extension property.")


def unfilterable(name: str, resource: str) -> GraphError:
    return unsupported_query(f"Unsupported or invalid query filter clause specified for property '{name}' of "
                             f"resource '{resource}'.")


def advanced_query_needed(operator: str) -> GraphError:
    return unsupported_query(f"Operator '{operator}' is not supported because the required parameters might be "
                             "missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. "
                             "Refer to https://aka.ms/graph-docs/advanced-queries for more information")


# ----------------------------------------------------------------------------- front-door errors


def segment_not_found(segment: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def invalid_version() -> GraphError:
    return GraphError(400, "BadRequest", "Invalid version.")


def method_not_allowed() -> GraphError:
    return GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")


def unsupported_option(name: str) -> GraphError:
    """An unknown ``$`` system query option (unconfirmed wording)."""
    return GraphError(400, "BadRequest", f"The query parameter '{name}' is not supported.")


def batch_error(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def too_many_requests(retry_after: int, scope: str, why: str = "ResourceUnitLimitExceeded") -> GraphError:
    return GraphError(429, "TooManyRequests", "Too many requests.", headers={
        "Retry-After": str(retry_after),
        "x-ms-throttle-scope": scope,
        "x-ms-throttle-information": why,
    })


def failed_dependency(depends_on: str) -> GraphError:
    """What a batch step whose dependency failed gets (the status is documented, the body unconfirmed)."""
    return GraphError(424, "FailedDependency",
                      f"The request could not be executed because request '{depends_on}' it depends on failed.")
