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
from reconciler.i18n import N_, T_, Text
from reconciler.model.files import UserEntry
from reconciler.model.org import Org, Sourced

# A first password mailed on its own, beside the welcome mail; a reset's new password has no welcome mail.
MAILED_APART = N_("mailed to {address}, apart from the welcome mail")


@dataclass(frozen=True)
class Route:
    address: str  # the new account
    user_id: str
    how: str  # "mailed to ...", or why nobody has it (a Text: said in the reader's language where shown)
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
            how: Text
            if settings is None or settings.send_password == "never":
                how = T_("nobody: org.yaml's onboarding mail sends no passwords")
            else:
                need = "personal_email" if settings.send_to == "personal" else "manager"
                how = T_("nobody: {file} names no {field}; add one", file=entry.where.document.display_path,
                         field=need)
            route = Route(change.key, route.user_id, how, in_person=False, expected=False)
        said = route.how
        if isinstance(said, Text) and said.template == MAILED_APART:  # a reset's password is the only mail
            said = T_("mailed to {address}", **said.values)
        routes.append(Route(route.address, route.user_id, said, route.in_person, route.expected))
    return routes


def _route(org: Org, users: Mapping[str, Sourced[UserEntry]], address: str, entry: Sourced[UserEntry]) -> Route:
    settings = org.settings.onboarding
    user_id = entry.value.id
    file = entry.where.document.display_path
    if settings is None:
        return Route(address, user_id, T_("nobody (no onboarding mail in org.yaml): reset it at the provider and "
                                          "hand it over in person"), True)
    if settings.send_password == "never":
        return Route(address, user_id, T_("not mailed (onboarding.send_password: never): reset it at the provider "
                                          "and hand it over in person"), True)
    chosen = user_id in settings.in_person
    if settings.send_to == "personal":
        if entry.value.personal_email:
            return Route(address, user_id, T_(MAILED_APART, address=entry.value.personal_email), False)
        return Route(address, user_id, T_("nobody: {file} names no personal_email; add one, or list {user_id} in "
                                          "onboarding.in_person and reset it at the provider and hand it over in "
                                          "person", file=file, user_id=user_id), True, expected=chosen)
    manager = users.get(entry.value.manager or "")
    if manager is not None:
        return Route(address, user_id, T_("mailed to their manager ({id}), who hands it over", id=manager.value.id),
                     False)
    return Route(address, user_id, T_("nobody: {file} names no manager; add one, or list {user_id} in "
                                      "onboarding.in_person and reset it at the provider and hand it over in person",
                                      file=file, user_id=user_id), True, expected=chosen)


def _listed(routes: list[Route], shown: int = 20) -> str:
    names = ", ".join(r.address for r in routes[:shown])
    return T_("{names} and {count} more", names=names, count=len(routes) - shown) if len(routes) > shown else names


# What a route the mail cannot take means: (message, action), for a first password and for a reset.
UNROUTABLE = {
    "first": (N_("{address}: its first password would reach {how}"),
              N_("apply will not create this person until their file says where the mail goes")),
    "reset": (N_("{address}: the new password of its reset would reach {how}"),
              N_("apply will not reset this password until their file says where the mail goes")),
}


def _unroutable(routes: list[Route], which: str) -> list[PlanWarning]:
    """One high warning per route the mail cannot take: the apply refuses those (`mail/step.py`)."""
    message, action = UNROUTABLE[which]
    return [PlanWarning(code="no-password-route", severity="high", subject=r.address,
                        message=T_(message, address=r.address, how=r.how), action=T_(action))
            for r in routes if not r.expected]


def password_warnings(org: Org, changes: Sequence[Change]) -> list[PlanWarning]:
    """What the plan says about the first passwords of the people it creates, and about the new
    passwords of the resets it carries out."""
    routes = first_password_routes(org, changes)
    warnings = _unroutable(routes, "first")
    handover = [r for r in routes if r.in_person and r.expected]
    if handover:
        why = (T_("no onboarding mail in org.yaml") if org.settings.onboarding is None else
               T_("see each person's file"))
        template = (T_("the first password of {count} new person reaches nobody ({why}): {names}", count=1,
                       why=why, names=_listed(handover)) if len(handover) == 1 else
                    T_("the first password of {count} new people reaches nobody ({why}): {names}",
                       count=len(handover), why=why, names=_listed(handover)))
        warnings.append(PlanWarning(
            code="password-handover", severity="medium", message=template,
            action=T_("after the apply, reset it at the provider and hand it over in person (the apply's summary "
                      "lists them again)")))
    mailed = [r for r in routes if not r.in_person]
    if mailed and org.settings.onboarding is not None:
        to = (T_("their private addresses") if org.settings.onboarding.send_to == "personal" else
              T_("their managers"))
        warnings.append(PlanWarning(
            code="password-mailed", severity="info",
            message=T_("the first password of {count} new person is mailed to {to}: {names}", count=1, to=to,
                       names=_listed(mailed)) if len(mailed) == 1 else
            T_("the first password of {count} new people is mailed to {to}: {names}", count=len(mailed), to=to,
               names=_listed(mailed))))
    return warnings + _reset_warnings(org, changes)


def _reset_warnings(org: Org, changes: Sequence[Change]) -> list[PlanWarning]:
    routes = reset_routes(org, changes)
    warnings = _unroutable(routes, "reset")
    warnings += [PlanWarning(code="password-reset", severity="info", subject=r.address,
                             message=T_("{address}: the password is reset as its file asks, every session signed "
                                        "out, and the new password {how}", address=r.address, how=r.how))
                 for r in routes if r.expected]
    return warnings
