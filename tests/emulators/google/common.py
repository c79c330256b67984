"""What every API handler shares: the call context, the handler registry, paging and rendering."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .discovery import SILENT_CAPS, Method
from .errors import invalid, not_found, user_creation_not_complete
from .state import Member, Store, etag

PACIFIC = dt.timezone(dt.timedelta(hours=-8))  # the Reports API dates usage in UTC-8


@dataclass
class ReportSchedule:
    """Which dates the Reports API has usage data for. Google computes a day's usage days later:
    a date after the newest computed one is refused with 400 "Data for dates later than X is not
    yet available", the newest computed dates may still be partial (a PARTIAL_DATA_AVAILABLE
    warning), and a date may have no data at all (a DATA_NOT_AVAILABLE warning)."""

    lag_days: int = 2  # the newest date with data is today - lag_days
    partial_days: int = 1  # that many of the newest dates answer with PARTIAL_DATA_AVAILABLE
    missing: set[str] = field(default_factory=set)  # dates (yyyy-mm-dd) that answer DATA_NOT_AVAILABLE
    today: dt.date | None = None  # tests pin "today" (Pacific); None: the clock

    def today_pacific(self) -> dt.date:
        return self.today if self.today is not None else dt.datetime.now(PACIFIC).date()

    def newest(self) -> dt.date:
        return self.today_pacific() - dt.timedelta(days=self.lag_days)


@dataclass
class Call:
    """One API call, validated against the discovery document."""

    method: Method
    params: dict[str, Any]
    body: dict[str, Any] | None
    store: Store
    consistency_delay_s: float = 0.0
    transfer_delay_s: float = 0.0
    now: float = field(default_factory=time.monotonic)  # the emulator's clock
    reports: ReportSchedule = field(default_factory=ReportSchedule)
    visibility_delay_s: float = 0.0
    default_license: str | None = None  # automatic licensing: what a new user gets

    def param(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value in (None, "") else value

    def json(self) -> dict[str, Any]:
        return self.body if self.body is not None else {}


@dataclass
class Result:
    status: int
    payload: dict[str, Any] | None = None


Handler = Callable[[Call], Result]
HANDLERS: dict[str, Handler] = {}


def handles(*method_ids: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        for method_id in method_ids:
            HANDLERS[method_id] = function
        return function
    return register


def ok(payload: dict[str, Any] | None = None) -> Result:
    return Result(200, payload) if payload is not None else Result(204)


# ----------------------------------------------------------------------------- checks


def check_customer(store: Store, value: str | None) -> None:
    if value not in ("my_customer", store.customer_id):
        raise invalid("Invalid Customer Id")


def ensure_ready(call: Call, user_id: str) -> None:
    """Right after users.insert, mutations on the new user fail until Google has finished creating it."""
    created = call.store.created_at.get(user_id)
    if created is not None and call.now - created < call.consistency_delay_s:
        raise user_creation_not_complete()


def hidden(call: Call, entity_id: str) -> bool:
    """A user or group inserted less than `visibility_delay_s` ago: lookups by key do not find it yet."""
    created = call.store.created_at.get(entity_id)
    return created is not None and call.now - created < call.visibility_delay_s


def ensure_visible(call: Call, entity_id: str, what: str) -> None:
    """Google's 404 for a key it cannot resolve yet: "Resource Not Found: groupKey"."""
    if hidden(call, entity_id):
        raise not_found(what)


# ----------------------------------------------------------------------------- paging


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
    except (ValueError, KeyError, TypeError):
        raise invalid("Invalid Input: pageToken", location="pageToken") from None
    if not isinstance(offset, int) or offset < 0:
        raise invalid("Invalid Input: pageToken", location="pageToken")
    return offset


def page(call: Call, items: Sequence[Any], *, key: str, kind: str | None, default: int,
         render: Callable[[Any], dict[str, Any]] | None = None) -> dict[str, Any]:
    """One page of a list answer, in the real list's keys, with ``nextPageToken`` when more follow.
    ``render``: how an item is shown, applied to this page's items only (rendering every user of a
    10,000-person tenant for each page of 500 cost the emulator seconds a listing, which a
    benchmark then counted as the provider's)."""
    size = int(call.param("maxResults", default))
    cap = SILENT_CAPS.get(call.method.id)
    if cap is not None:
        size = min(size, cap)
    start = _offset(call.param("pageToken"))
    chunk = [render(item) for item in items[start:start + size]] if render else list(items[start:start + size])
    body: dict[str, Any] = {}
    if kind:
        body["kind"] = kind
    if chunk:
        body[key] = chunk
    if start + size < len(items):
        body["nextPageToken"] = _token(start + size)
    body["etag"] = etag([item.get("etag") for item in chunk])
    return body


# ----------------------------------------------------------------------------- rendering


def with_meta(resource: dict[str, Any], kind: str) -> dict[str, Any]:
    out = {"kind": kind, **copy.deepcopy(resource)}
    out["etag"] = etag(out)
    return out


HIDDEN_USER_FIELDS = ("password", "hashFunction")


def render_user(store: Store, user: dict[str, Any], projection: str = "basic") -> dict[str, Any]:
    out = {k: v for k, v in user.items() if k not in HIDDEN_USER_FIELDS}
    if projection != "full":
        out.pop("customSchemas", None)
    if not out.get("aliases"):
        out.pop("aliases", None)
    non_editable = store.non_editable(store.user_addresses(user))
    if non_editable and "deletionTime" not in user:
        out["nonEditableAliases"] = non_editable
    return with_meta(out, "admin#directory#user")


def render_group(store: Store, group: dict[str, Any]) -> dict[str, Any]:
    out = dict(group)
    if not out.get("aliases"):
        out.pop("aliases", None)
    non_editable = store.non_editable(store.group_addresses(group))
    if non_editable:
        out["nonEditableAliases"] = non_editable
    out["directMembersCount"] = str(store.direct_count(group["id"]))
    return with_meta(out, "admin#directory#group")


def render_member(store: Store, member: Member) -> dict[str, Any]:
    if member.kind == "CUSTOMER":  # everyone in the organisation: the customer's id, no address
        return with_meta({"id": member.ref, "role": member.role, "type": "CUSTOMER",
                          "delivery_settings": member.delivery}, "admin#directory#member")
    out: dict[str, Any] = {"email": store.member_email(member), "role": member.role, "type": member.kind,
                           "delivery_settings": member.delivery}
    if member.ref is not None:
        out["id"] = member.ref
        if member.kind == "USER":
            out["status"] = "SUSPENDED" if store.users[member.ref].get("suspended") else "ACTIVE"
    return with_meta(out, "admin#directory#member")


def render_alias(entity: dict[str, Any], alias: str, primary_key: str) -> dict[str, Any]:
    return with_meta({"id": entity["id"], "primaryEmail": entity[primary_key], "alias": alias},
                     "admin#directory#alias")
