"""Which property names a request body may carry, taken from the installed msgraph-sdk models.

A body property is valid when the SDK's model for that type has it (``get_field_deserializers()``
keys, which are Graph's camelCase names). The models are imported lazily, once, on the first
body that needs checking: importing them takes a few tenths of a second, which tests that never
write should not pay. If msgraph-sdk is not installed, a built-in list of the properties this
emulator stores stands in.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from . import errors

# model name -> (module, class)
MODELS: dict[str, tuple[str, str]] = {
    "user": ("msgraph.generated.models.user", "User"),
    "group": ("msgraph.generated.models.group", "Group"),
    "passwordProfile": ("msgraph.generated.models.password_profile", "PasswordProfile"),
    "assignedLicense": ("msgraph.generated.models.assigned_license", "AssignedLicense"),
    "referenceCreate": ("msgraph.generated.models.reference_create", "ReferenceCreate"),
    "referenceUpdate": ("msgraph.generated.models.reference_update", "ReferenceUpdate"),
    "unifiedRoleAssignment": ("msgraph.generated.models.unified_role_assignment", "UnifiedRoleAssignment"),
    "directoryRole": ("msgraph.generated.models.directory_role", "DirectoryRole"),
    "assignLicense": ("msgraph.generated.users.item.assign_license.assign_license_post_request_body",
                      "AssignLicensePostRequestBody"),
}

_FALLBACK: dict[str, tuple[str, ...]] = {
    "user": ("@odata.type", "id", "accountEnabled", "displayName", "givenName", "surname", "mail", "mailNickname",
             "userPrincipalName", "employeeId", "employeeType", "department", "jobTitle", "companyName",
             "officeLocation", "businessPhones", "mobilePhone", "usageLocation", "preferredLanguage", "otherMails",
             "proxyAddresses", "passwordProfile", "passwordPolicies", "assignedLicenses", "assignedPlans",
             "signInActivity", "createdDateTime", "deletedDateTime", "userType", "manager", "memberOf",
             "licenseDetails", "directReports", "signInSessionsValidFromDateTime", "city", "country", "state",
             "streetAddress", "postalCode", "employeeHireDate", "employeeLeaveDateTime", "showInAddressList"),
    "group": ("@odata.type", "id", "displayName", "description", "mail", "mailEnabled", "mailNickname",
              "securityEnabled", "groupTypes", "visibility", "proxyAddresses", "createdDateTime", "deletedDateTime",
              "isAssignableToRole", "members", "owners", "memberOf", "renewedDateTime", "securityIdentifier",
              "classification", "membershipRule", "membershipRuleProcessingState", "preferredLanguage", "theme",
              "resourceBehaviorOptions", "resourceProvisioningOptions", "expirationDateTime"),
    "passwordProfile": ("@odata.type", "forceChangePasswordNextSignIn", "forceChangePasswordNextSignInWithMfa",
                        "password"),
    "assignedLicense": ("@odata.type", "disabledPlans", "skuId"),
    "referenceCreate": ("@odata.id",),
    "referenceUpdate": ("@odata.id", "@odata.type"),
    "unifiedRoleAssignment": ("@odata.type", "id", "roleDefinitionId", "principalId", "directoryScopeId",
                              "appScopeId", "condition"),
    "directoryRole": ("@odata.type", "id", "displayName", "description", "roleTemplateId", "deletedDateTime"),
    "assignLicense": ("addLicenses", "removeLicenses"),
}

# Properties Graph computes or manages itself: a write names them and gets "read-only".
READ_ONLY: dict[str, frozenset[str]] = {
    "user": frozenset({"id", "createdDateTime", "deletedDateTime", "proxyAddresses", "assignedLicenses",
                       "assignedPlans", "provisionedPlans", "licenseAssignmentStates", "signInActivity",
                       "signInSessionsValidFromDateTime", "lastPasswordChangeDateTime", "securityIdentifier",
                       "onPremisesSyncEnabled", "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors"}),
    "group": frozenset({"id", "createdDateTime", "deletedDateTime", "proxyAddresses", "mail", "renewedDateTime",
                        "securityIdentifier", "expirationDateTime", "onPremisesSyncEnabled",
                        "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors"}),
}

# Navigation properties a create or update may bind with ``name@odata.bind``.
BINDABLE: dict[str, frozenset[str]] = {
    "user": frozenset({"manager"}),
    "group": frozenset({"members", "owners"}),
}

_TYPES: dict[str, type | tuple[type, ...]] = {
    "accountEnabled": bool, "mailEnabled": bool, "securityEnabled": bool, "isAssignableToRole": bool,
    "forceChangePasswordNextSignIn": bool, "forceChangePasswordNextSignInWithMfa": bool, "showInAddressList": bool,
    "businessPhones": list, "otherMails": list, "groupTypes": list, "imAddresses": list,
    "displayName": str, "givenName": str, "surname": str, "mail": str, "mailNickname": str, "userPrincipalName": str,
    "employeeId": str, "department": str, "jobTitle": str, "usageLocation": str, "mobilePhone": str,
    "description": str, "visibility": str, "password": str, "companyName": str, "officeLocation": str,
}


_FALLBACK_NAVIGATION = frozenset({"manager", "memberOf", "licenseDetails", "directReports", "members", "owners"})


@functools.cache
def _model(model: str) -> tuple[frozenset[str], frozenset[str]]:
    """(all property names, navigation property names) of an msgraph-sdk model.

    A navigation property is one whose deserializer asks for an entity type (``DirectoryObject``
    for ``members``), as opposed to a complex type (``PasswordProfile``) or a primitive: each
    deserializer is run against a parse node that only records what it is asked for.
    """
    module_name, class_name = MODELS[model]
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
        entity = importlib.import_module("msgraph.generated.models.entity").Entity
    except ImportError:
        names = frozenset(_FALLBACK[model])
        return names, names & _FALLBACK_NAVIGATION
    deserializers = cls().get_field_deserializers()
    navigation = set()
    for name, deserialize in deserializers.items():
        probe = _Probe()
        deserialize(probe)
        if any(isinstance(t, type) and issubclass(t, entity) for t in probe.requested):
            navigation.add(name)
    return frozenset(deserializers), frozenset(navigation)


class _Probe:
    """A stand-in parse node: every ``get_*`` returns None and remembers the type it was asked for."""

    def __init__(self) -> None:
        self.requested: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        def getter(*args: Any, **kwargs: Any) -> None:
            self.requested.extend(args)
        return getter


def fields(model: str) -> frozenset[str]:
    """The camelCase property names of an msgraph-sdk model (or the built-in list without the SDK)."""
    return _model(model)[0]


def navigation(model: str) -> frozenset[str]:
    """The model's navigation properties: a body may only bind them (``name@odata.bind``)."""
    return _model(model)[1]


def check_body(model: str, body: Any, *, resource: str, odata_type: str | None = None,
               binds: Iterable[str] = (), writable_only: bool = False) -> dict[str, Any]:
    """Reject what Graph rejects in a body of ``model``: a non-object, unknown names, wrong types."""
    if not isinstance(body, Mapping):
        raise errors.bad_request("Invalid request body: a JSON object is expected.")
    known = fields(model)
    allowed_binds = set(binds)
    for name, value in body.items():
        if name == "@odata.type":
            if odata_type is not None and value != f"#microsoft.graph.{odata_type}":
                raise errors.bad_request(f"Invalid @odata.type '{value}' for a {odata_type}.")
            continue
        if name.endswith("@odata.bind"):
            if name.removesuffix("@odata.bind") not in allowed_binds:
                raise errors.invalid_property(name)
            continue
        if name not in known or name in navigation(model):
            raise errors.invalid_property(name)
        if writable_only and name in READ_ONLY.get(model, frozenset()):
            raise errors.read_only(name)
        _check_type(name, value, resource)
    return dict(body)


def _check_type(name: str, value: Any, resource: str) -> None:
    expected = _TYPES.get(name)
    if expected is None or value is None:
        return
    if expected is str and not isinstance(value, str):
        raise errors.invalid_value(name, resource)
    if expected is bool and not isinstance(value, bool):
        raise errors.invalid_value(name, resource)
    if expected is list and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        raise errors.invalid_value(name, resource)
