"""Safety limits from org.yaml, checked on every plan; apply refuses a plan that breaks one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.changes import Change, Violation
from reconciler.i18n import N_, T_, Text
from reconciler.model.files import Safety
from reconciler.state import COLLECTION_KINDS, Alias, Domain, Kind, Role, State

SUPER_ADMIN = "super-admin"
ACCOUNT_KINDS: tuple[Kind, ...] = ("user", "group")


PROCEED = N_("if this is intended, raise {limit} in org.yaml in this same pull request (the plan is checked "
             "again), or split the change into smaller pull requests")


def proceed(limit: str) -> Text:
    """What to do about a refused limit: every refusal says how to go on."""
    return T_(PROCEED, limit=limit)


def _removes_user(change: Change) -> bool:
    return change.kind == "user" and change.action in ("delete", "suspend")


def _freezes(change: Change) -> bool:
    """A security freeze (status: frozen), or the removal of a frozen account's forwarding, rules,
    delegates or tokens: counted apart, since an incident is not a removal."""
    return change.security and change.kind in ("user", "access")


def _frozen_accounts(changes: list[Change]) -> int:
    """How many accounts the plan freezes: an account counts once, however many of its accesses go."""
    return len({c.key if c.kind == "user" else (c.before or {}).get("owner", c.key) for c in changes
                if _freezes(c)})


@dataclass(frozen=True)
class ActingAccount:
    """The user account the provider acts as (`BaseProvider.acting_as`), and where org/ says so."""

    address: str
    user_file: str | None  # "org/users/e1060.yaml:1:1", or None when no file describes it
    provider_setting: str  # where org.yaml names it: "named in the provider block of org.yaml, org/org.yaml:9:10"
    # (a Text where the plan made it, said in the reader's language)
    roles_file: str  # where its admin roles are granted: "org/permissions.yaml"


def check_safety(changes: list[Change], safety: Safety, actual: State,
                 acting: ActingAccount | None = None) -> list[Violation]:
    """The limits this plan breaks, each naming the limit and the numbers; [] if none.

    `max_deletes` counts deletes and suspends of things that hold mail or structure
    (users, groups, org units, domains); links (memberships, aliases, licences,
    roles) come and go with every department move and are not counted. Freezes
    (security incidents) count only against `max_freezes`: freezing three
    compromised accounts of fifty is not a mass removal.
    """
    violations = []
    removals = [c for c in changes if c.action in ("delete", "suspend") and c.kind not in COLLECTION_KINDS
                and not _freezes(c)]
    if len(removals) > safety.max_deletes:
        violations.append(Violation(
            code="max-deletes", subject="safety.max_deletes",
            message=T_("the plan deletes or suspends {count} users, groups or org units, over "
                       "safety.max_deletes = {limit}", count=len(removals), limit=safety.max_deletes),
            action=proceed("safety.max_deletes")))
    freezes = _frozen_accounts(changes)
    if freezes > safety.max_freezes:
        violations.append(Violation(
            code="max-freezes", subject="safety.max_freezes",
            message=T_("the plan freezes {count} accounts, over safety.max_freezes = {limit}", count=freezes,
                       limit=safety.max_freezes),
            action=T_("if these accounts are compromised, raise safety.max_freezes in org.yaml in this same pull "
                      "request; if not, look for the edit that set status: frozen in so many files")))
    managed = sum(1 for u in actual.users().values() if u.id)
    user_removals = sum(1 for c in changes if _removes_user(c) and not _freezes(c))
    if share := _over(user_removals, managed, safety.max_delete_percent):
        violations.append(Violation(
            code="max-delete-percent", subject="safety.max_delete_percent",
            message=T_("the plan suspends or deletes {count} of {managed} managed users ({share}%), over "
                       "safety.max_delete_percent = {limit}%", count=user_removals, managed=managed,
                       share=format(share, ".1f"), limit=format(safety.max_delete_percent, "g")),
            action=proceed("safety.max_delete_percent")))
    renames = sum(1 for c in changes if renames_user(c))
    if share := _over(renames, managed, safety.max_rename_percent):
        violations.append(Violation(
            code="max-rename-percent", subject="safety.max_rename_percent",
            message=T_("the plan changes the address of {count} of {managed} managed users ({share}%), over "
                       "safety.max_rename_percent = {limit}%", count=renames, managed=managed,
                       share=format(share, ".1f"), limit=format(safety.max_rename_percent, "g")),
            action=T_("if this is intended, raise {limit} in org.yaml in this same pull request (the plan is "
                      "checked again), or split the change into smaller pull requests; an edit of naming.yaml "
                      "renames everyone whose address it derives: to keep someone's address, set email: in their "
                      "file", limit="safety.max_rename_percent")))
    violations.extend(_last_super_admin(changes, actual))
    if acting is not None:
        violations.extend(_acting_account(changes, actual, acting))
    return violations



def _over(count: int, managed: int, limit_percent: float) -> float | None:
    """The share of managed users `count` is, in percent, when it passes `limit_percent` (else None)."""
    if not managed or not count:
        return None
    share = 100.0 * count / managed
    return share if share > limit_percent else None

def renames_user(change: Change) -> bool:
    """A change of a user's address: their mailbox gets a new name (mail to the old one may bounce)."""
    return (change.kind == "user" and change.before is not None and change.after is not None
            and change.before.get("email") != change.after.get("email"))


def protected_accounts(protected: Iterable[str], desired: State, actual: State) -> dict[str, str]:
    """Every address that names a protected account -> the safety.protected entry that protects it.

    An entry protects the account it names by any of the account's addresses: its own, one of its
    aliases, or either of those at an alias domain (protecting admin@acme.cn protects admin@acme.com
    when acme.cn is an alias of acme.com). The account is protected under each address it has at
    the provider and in org/ (a rename org/ wants is one of the changes refused). An entry that
    names no account yet protects that address (the account may be created).
    """
    states = (actual, desired)
    alias_of = {d.name: d.alias_of for state in states for d in state.of("domain").values()
                if isinstance(d, Domain) and d.alias_of}

    def canonical(address: str) -> str:
        local, _, domain = address.lower().rpartition("@")
        return f"{local}@{alias_of.get(domain, domain)}"

    accounts: dict[str, str] = {}  # any address, canonical -> the account's address
    for state in states:
        for kind in ACCOUNT_KINDS:
            accounts.update((canonical(a), a) for a in state.of(kind) if canonical(a) not in accounts)
    aliases = [a for state in states for a in state.of("alias").values() if isinstance(a, Alias)]
    accounts.update((canonical(a.address), a.target) for a in aliases if canonical(a.address) not in accounts)
    found: dict[str, str] = {}
    for entry in protected:
        account = accounts.get(canonical(entry))
        for name in (entry, *_same_person(account, states)):
            found.setdefault(name, entry)
    return found


def _same_person(account: str | None, states: Iterable[State]) -> set[str]:
    """The addresses one account has in these states: matched by id (a rename), else the address itself."""
    if account is None:
        return set()
    users = [u for state in states for u in state.users().values()]
    person = next((u.id for u in users if u.email == account and u.id), None)
    return {account} | {u.email for u in users if person is not None and u.id == person}


def _last_super_admin(changes: list[Change], actual: State) -> list[Violation]:
    holders = {r.user for r in actual.of("role").values() if isinstance(r, Role) and r.role == SUPER_ADMIN}
    if not holders:
        return []
    remaining = set(holders)
    for change in changes:
        before = change.before or {}
        if change.kind == "role" and change.action == "delete" and before.get("role") == SUPER_ADMIN:
            remaining.discard(str(before.get("user")))
        if _removes_user(change):
            remaining.discard(change.before_key)
    users = actual.users()
    active = {u for u in remaining if u in users and not users[u].suspended}
    if active or not any(u in users and not users[u].suspended for u in holders):
        return []
    return [Violation(
        code="last-super-admin", subject=SUPER_ADMIN,
        message=T_("the plan would leave no active super-admin (it removes or suspends {accounts})",
                   accounts=", ".join(sorted(holders - remaining))),
        action=T_("keep at least one: give another person the super-admin role in permissions.yaml first"))]


def _acting_account(changes: list[Change], actual: State, acting: ActingAccount) -> list[Violation]:
    """Peribolos's require-self: reconciler never removes the account it acts as, nor its admin
    roles; the apply after such a plan would be refused by the provider, half done."""
    names = {acting.address.lower()}
    names |= {a.target.lower() for a in actual.of("alias").values()
              if isinstance(a, Alias) and a.address.lower() in names}
    names |= {a.address.lower() for a in actual.of("alias").values()
              if isinstance(a, Alias) and a.target.lower() in names}
    found = []
    for change in changes:
        before = change.before or {}
        template: str | None
        where: str
        if change.kind == "user" and change.before_key.lower() in names:
            template = (LOCKOUT["freeze"] if change.security else LOCKOUT.get(change.action)
                        or (LOCKOUT["rename"] if renames_user(change) else None))
            where = acting.user_file or T_("{setting}; no file in org/users/ describes it",
                                           setting=acting.provider_setting)
        elif (change.kind == "role" and change.action == "delete" and str(before.get("user", "")).lower() in names):
            template, where = LOCKOUT["take-role"], acting.roles_file
        else:
            continue
        if template is None:
            continue
        found.append(Violation(
            code="acting-account", subject=acting.address,
            message=T_(template, where=where, address=acting.address, setting=acting.provider_setting,
                       role=str(before.get("role"))),
            action=T_("keep that account active, named as it is, with its admin role; to retire it, first make "
                      "the provider act as another admin (provider.admin in org.yaml) and apply, then change this "
                      "account in a later pull request")))
    return found


# What a plan would do to the account reconciler acts as: whole sentences, as Chinese orders them differently.
LOCKOUT: dict[str, str] = {
    "freeze": N_("{where}: the plan would freeze {address}, the account reconciler acts as ({setting}); the apply "
                 "would lock reconciler out of the directory"),
    "delete": N_("{where}: the plan would delete {address}, the account reconciler acts as ({setting}); the apply "
                 "would lock reconciler out of the directory"),
    "suspend": N_("{where}: the plan would suspend {address}, the account reconciler acts as ({setting}); the "
                  "apply would lock reconciler out of the directory"),
    "rename": N_("{where}: the plan would rename {address}, the account reconciler acts as ({setting}); the apply "
                 "would lock reconciler out of the directory"),
    "take-role": N_("{where}: the plan would take the admin role {role} from {address}, the account reconciler "
                    "acts as ({setting}); the apply would lock reconciler out of the directory"),
}
