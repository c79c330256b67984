"""Data Transfer API v1 (Drive and Calendar ownership transfers) and Reports API v1 (user usage)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .common import Call, Result, check_customer, handles, ok, page, with_meta
from .errors import ApiError, invalid, not_found
from .state import NEVER, Store, rfc3339

APPLICATIONS: tuple[dict[str, Any], ...] = (
    {"id": "55656082996", "name": "Drive and Docs",
     "transferParams": [{"key": "PRIVACY_LEVEL", "value": ["PRIVATE", "SHARED"]}]},
    {"id": "435070579839", "name": "Calendar", "transferParams": [{"key": "RELEASE_RESOURCES", "value": ["TRUE"]}]},
    {"id": "810260081642", "name": "Looker Studio", "transferParams": []},
)


@handles("datatransfer.applications.list")
def list_applications(call: Call) -> Result:
    if call.param("customerId"):
        check_customer(call.store, call.param("customerId"))
    apps = [with_meta(a, "admin#datatransfer#ApplicationResource") for a in APPLICATIONS]
    return ok(page(call, apps, key="applications", kind="admin#datatransfer#applicationsList", default=100))


@handles("datatransfer.applications.get")
def get_application(call: Call) -> Result:
    app = next((a for a in APPLICATIONS if a["id"] == call.params["applicationId"]), None)
    if app is None:
        raise not_found("applicationId")
    return ok(with_meta(app, "admin#datatransfer#ApplicationResource"))


def _progress(call: Call, transfer: dict[str, Any]) -> dict[str, Any]:
    """A transfer is in progress for ``transfer_delay_s`` after its insert, then completed."""
    done = call.now - transfer["_started"] >= call.transfer_delay_s
    state = "completed" if done else "inProgress"
    out = {k: v for k, v in transfer.items() if not k.startswith("_")}
    out["overallTransferStatusCode"] = state
    out["applicationDataTransfers"] = [{**a, "applicationTransferStatus": state}
                                       for a in out["applicationDataTransfers"]]
    return with_meta(out, "admin#datatransfer#DataTransfer")


def _owner(store: Store, body: dict[str, Any], name: str) -> str:
    key = str(body.get(name) or "")
    if not key:
        raise ApiError(400, "required", f"Missing required field: {name}")
    if store.user_by_key(key, deleted=True) is None:
        raise invalid(f"Invalid Input: {name}")
    return key


@handles("datatransfer.transfers.insert")
def insert_transfer(call: Call) -> Result:
    store = call.store
    body = call.json()
    old, new = _owner(store, body, "oldOwnerUserId"), _owner(store, body, "newOwnerUserId")
    apps = body.get("applicationDataTransfers") or []
    if not apps:
        raise ApiError(400, "required", "Missing required field: applicationDataTransfers")
    known = {a["id"] for a in APPLICATIONS}
    for app in apps:
        if str(app.get("applicationId")) not in known:
            raise invalid("Invalid Input: applicationId")
    transfer_id = "AKrEtI" + store.new_id("t")
    store.transfers[transfer_id] = {
        "id": transfer_id, "oldOwnerUserId": old, "newOwnerUserId": new, "requestTime": rfc3339(),
        "applicationDataTransfers": [{"applicationId": str(a["applicationId"]),
                                      "applicationTransferParams": a.get("applicationTransferParams", [])}
                                     for a in apps],
        "_started": call.now,
    }
    out = _progress(call, store.transfers[transfer_id])
    if call.transfer_delay_s > 0:
        out["overallTransferStatusCode"] = "inProgress"
    return ok(out)


@handles("datatransfer.transfers.get")
def get_transfer(call: Call) -> Result:
    transfer = call.store.transfers.get(call.params["dataTransferId"])
    if transfer is None:
        raise not_found("dataTransferId")
    return ok(_progress(call, transfer))


@handles("datatransfer.transfers.list")
def list_transfers(call: Call) -> Result:
    if call.param("customerId"):
        check_customer(call.store, call.param("customerId"))
    items = [_progress(call, t) for t in call.store.transfers.values()]
    for name in ("oldOwnerUserId", "newOwnerUserId"):
        if call.param(name):
            items = [t for t in items if t[name] == call.param(name)]
    if call.param("status"):
        items = [t for t in items if t["overallTransferStatusCode"] == call.param("status")]
    return ok(page(call, items, key="dataTransfers", kind="admin#datatransfer#dataTransfersList", default=100))


# ----------------------------------------------------------------------------- reports

REPORT_PARAMETERS = ("accounts:last_login_time", "accounts:is_2sv_enrolled", "accounts:used_quota_in_mb",
                     "accounts:total_quota_in_mb", "accounts:is_disabled", "accounts:creation_time",
                     "gmail:num_emails_sent", "gmail:num_emails_received")
DEFAULT_QUOTA_MB = 30720  # Business Starter: 30 GB per user


def _figures(store: Store, user: dict[str, Any], date: str) -> dict[str, dict[str, Any]]:
    """A user's figures on `date`: those planted for that day (set_usage_history), else the
    current ones (set_user_activity) and no mail."""
    activity = store.activity.get(user["id"], {})
    day = store.usage_days.get(user["id"], {}).get(date, {})
    used = day.get("used_quota_mb", activity.get("used_quota_mb", 0))
    return {
        "accounts:last_login_time": {"datetimeValue": user.get("lastLoginTime", NEVER)},
        "accounts:is_2sv_enrolled": {"boolValue": bool(user.get("isEnrolledIn2Sv"))},
        "gmail:num_emails_sent": {"intValue": str(int(day.get("num_emails_sent", 0)))},
        "gmail:num_emails_received": {"intValue": str(int(day.get("num_emails_received", 0)))},
        "accounts:used_quota_in_mb": {"intValue": str(int(used))},
        "accounts:total_quota_in_mb": {"intValue": str(int(activity.get("quota_mb", DEFAULT_QUOTA_MB)))},
        "accounts:is_disabled": {"boolValue": bool(user.get("suspended"))},
        "accounts:creation_time": {"datetimeValue": user["creationTime"]},
    }


def _report(store: Store, user: dict[str, Any], date: str, wanted: list[str]) -> dict[str, Any]:
    figures = _figures(store, user, date)
    parameters = [{"name": name, **figures[name]} for name in wanted]
    entity = {"customerId": store.customer_id, "userEmail": user["primaryEmail"], "profileId": user["id"],
              "type": "USER"}
    return with_meta({"date": date, "entity": entity, "parameters": parameters}, "admin#reports#usageReport")


def _availability(call: Call, date: dt.date) -> list[dict[str, Any]]:
    """Refuse a date Google has not computed yet (as it does: 400 naming the newest date it has);
    the warnings of a date it has computed only partly, or not at all."""
    schedule = call.reports
    today, newest = schedule.today_pacific(), schedule.newest()
    if date > today:
        raise invalid(f"Start date can not be later than {today.isoformat()}")
    if date > newest:
        raise invalid(f"Data for dates later than {newest.isoformat()} is not yet available. Please check back later")
    about = [{"key": "application", "value": "accounts"}]
    if date.isoformat() in schedule.missing:
        return [{"code": "DATA_NOT_AVAILABLE", "data": about,
                 "message": f'Sorry, data for date {date.isoformat()} for application "accounts" is not available.'}]
    if (newest - date).days < schedule.partial_days:
        return [{"code": "PARTIAL_DATA_AVAILABLE", "data": about,
                 "message": f'Data for date {date.isoformat()} for application "accounts" is not available right '
                            "now, please try again after a few hours."}]
    return []


@handles("reports.userUsageReport.get")
def user_usage(call: Call) -> Result:
    store = call.store
    date = call.params["date"]
    warnings = _availability(call, dt.date.fromisoformat(date))
    wanted = [p for p in str(call.param("parameters", "")).split(",") if p] or list(REPORT_PARAMETERS)
    unknown = [p for p in wanted if p not in REPORT_PARAMETERS]
    if unknown:
        raise invalid(f"Bad request - invalid parameters: {unknown[0]}", location="parameters")
    key = call.params["userKey"]
    if key == "all":
        users = sorted((u for u in store.users.values() if "deletionTime" not in u), key=lambda u: u["primaryEmail"])
    else:
        user = store.user_by_key(key)
        if user is None:
            raise not_found("userKey")
        users = [user]
    if any(w["code"] == "DATA_NOT_AVAILABLE" for w in warnings):
        users = []
    reports = [_report(store, u, date, wanted) for u in users]
    body = page(call, reports, key="usageReports", kind="admin#reports#usageReports", default=1000)
    if warnings:
        body["warnings"] = warnings
    return ok(body)
