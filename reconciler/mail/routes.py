"""How each new person's first password reaches them: mailed to their private address or to their
manager, or by nobody (IT resets it at the provider and hands it over in person).

An apply generates a random initial password for each person it creates, hands it to the
provider and forgets it. Unless the onboarding mail takes it somewhere, nobody knows it: the
plan says so for every new person, the apply refuses to create someone whose mail cannot go
(unless org.yaml's `onboarding.in_person` lists them), and the apply's summary repeats who
needs a hand-over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.changes import Change, PlanWarning
from reconciler.model.files import UserEntry
from reconciler.model.org import Org, Sourced

IN_PERSON = "reset it at the provider and hand it over in person"


@dataclass(frozen=True)
class Route:
    address: str  # the new account
    user_id: str
    how: str  # "mailed to ...", or why nobody has it
    in_person: bool  # IT hands it over: nothing mails it
    expected: bool = True  # False: onboarding mail is on but cannot reach this person (a mistake to fix)


def first_password_routes(org: Org, changes: Iterable[Change]) -> list[Route]:
    """One route per user the changes create, in their order."""
    users = org.users_by_id()  # once: an apply may create thousands
    routes = []
    for change in changes:
        if change.kind != "user" or change.action != "create" or change.after is None:
            continue
        entry = users.get(str(change.after.get("id")))
        if entry is not None:
            routes.append(_route(org, users, change.key, entry))
    return routes


def reset_routes(org: Org, changes: Iterable[Change]) -> list[Route]:
    """One route per password reset the changes carry out (`mail_password`). A reset password that
    no mail can take is lost and locks the person out, so handing it over in person is no route."""
    users = org.users_by_id()
    routes = []
    for change in changes:
        if change.kind != "user" or "mail_password" not in change.effects or change.after is None:
            continue
        entry = users.get(str(change.after.get("id")))
        if entry is None:
            continue
        route = _route(org, users, change.key, entry)
        if route.in_person:
            settings = org.settings.onboarding
            if settings is None or settings.send_password == "never":
                how = "nobody: org.yaml's onboarding mail sends no passwords"
            else:
                need = "personal_email" if settings.send_to == "personal" else "manager"
                how = f"nobody: {entry.where.document.display_path} names no {need}; add one"
            route = Route(change.key, route.user_id, how, in_person=False, expected=False)
        routes.append(Route(route.address, route.user_id, route.how.removesuffix(", apart from the welcome mail"),
                            route.in_person, route.expected))
    return routes


def _route(org: Org, users: Mapping[str, Sourced[UserEntry]], address: str, entry: Sourced[UserEntry]) -> Route:
    settings = org.settings.onboarding
    user_id = entry.value.id
    file = entry.where.document.display_path
    if settings is None:
        return Route(address, user_id, f"nobody (no onboarding mail in org.yaml): {IN_PERSON}", True)
    if settings.send_password == "never":
        return Route(address, user_id, f"not mailed (onboarding.send_password: never): {IN_PERSON}", True)
    chosen = user_id in settings.in_person
    if settings.send_to == "personal":
        if entry.value.personal_email:
            return Route(address, user_id, f"mailed to {entry.value.personal_email}, apart from the welcome mail",
                         False)
        return Route(address, user_id, f"nobody: {file} names no personal_email; add one, or list {user_id} in "
                     f"onboarding.in_person and {IN_PERSON}", True, expected=chosen)
    manager = users.get(entry.value.manager or "")
    if manager is not None:
        return Route(address, user_id, f"mailed to their manager ({manager.value.id}), who hands it over", False)
    return Route(address, user_id, f"nobody: {file} names no manager; add one, or list {user_id} in "
                 f"onboarding.in_person and {IN_PERSON}", True, expected=chosen)


def _listed(routes: list[Route], shown: int = 20) -> str:
    names = ", ".join(r.address for r in routes[:shown])
    return names + (f" and {len(routes) - shown} more" if len(routes) > shown else "")


def _unroutable(routes: list[Route], password: str, refusal: str) -> list[PlanWarning]:
    """One high warning per route the mail cannot take: the apply refuses those (`mail/step.py`)."""
    return [PlanWarning(code="no-password-route", severity="high", subject=r.address,
                        message=f"{r.address}: {password} would reach {r.how}",
                        action=f"apply will not {refusal} until their file says where the mail goes")
            for r in routes if not r.expected]


def password_warnings(org: Org, changes: Sequence[Change]) -> list[PlanWarning]:
    """What the plan says about the first passwords of the people it creates, and about the new
    passwords of the resets it carries out."""
    routes = first_password_routes(org, changes)
    warnings = _unroutable(routes, "its first password", "create this person")
    handover = [r for r in routes if r.in_person and r.expected]
    if handover:
        why = "no onboarding mail in org.yaml" if org.settings.onboarding is None else "see each person's file"
        warnings.append(PlanWarning(
            code="password-handover", severity="medium",
            message=f"the first password of {len(handover)} new {_people(len(handover))} reaches nobody ({why}): "
                    + _listed(handover),
            action=f"after the apply, {IN_PERSON} (the apply's summary lists them again)"))
    mailed = [r for r in routes if not r.in_person]
    if mailed and org.settings.onboarding is not None:
        to = "their private addresses" if org.settings.onboarding.send_to == "personal" else "their managers"
        warnings.append(PlanWarning(
            code="password-mailed", severity="info",
            message=f"the first password of {len(mailed)} new {_people(len(mailed))} is mailed to {to}: "
                    + _listed(mailed)))
    return warnings + _reset_warnings(org, changes)


def _reset_warnings(org: Org, changes: Sequence[Change]) -> list[PlanWarning]:
    routes = reset_routes(org, changes)
    warnings = _unroutable(routes, "the new password of its reset", "reset this password")
    warnings += [PlanWarning(code="password-reset", severity="info", subject=r.address,
                             message=f"{r.address}: the password is reset as its file asks, every session signed "
                                     f"out, and the new password {r.how}")
                 for r in routes if r.expected]
    return warnings


def _people(n: int) -> str:
    return "person" if n == 1 else "people"
