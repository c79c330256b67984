"""A rename says what becomes of the old address, per provider (issue: safe to adopt)."""

from __future__ import annotations

from reconciler.changes import Change
from reconciler.plan.renames import old_address_warnings
from reconciler.providers.facts import facts_of
from reconciler.state import Alias, State, User

OLD = User(email="lina@acme.com", id="E1002")
NEW = OLD.model_copy(update={"email": "huangna@acme.com"})
RENAME = Change(action="update", kind="user", key=NEW.email, before=OLD.model_dump(mode="json", exclude_none=True),
                after=NEW.model_dump(mode="json", exclude_none=True), changed=["email"])


def messages(provider: str, desired: State) -> list[str]:
    return [w.message for w in old_address_warnings([RENAME], facts_of(provider), desired)]


def test_google_and_local_keep_the_old_address_as_an_alias() -> None:
    for provider in ("google", "local", "local:/tmp/x.json"):
        [message] = messages(provider, State())
        assert message.startswith("lina@acme.com keeps receiving mail: ") and "as an alias" in message


def test_where_org_lists_the_aliases_the_plan_says_the_next_plan_removes_the_old_one() -> None:
    desired = State()
    desired.scopes["alias"].add(NEW.email)
    [message] = messages("google", desired)
    assert "the next plan removes it (add it to `aliases:` to keep it)" in message
    desired.add(Alias(address=OLD.email, target=NEW.email))
    [message] = messages("google", desired)
    assert message.endswith("and org/ lists it among the aliases")


def test_microsoft_keeps_it_on_the_mailbox_outside_what_reconciler_manages() -> None:
    desired = State()
    desired.scopes["alias"].add(NEW.email)  # aliases do not exist at Microsoft: nothing to remove later
    [message] = messages("microsoft", desired)
    assert "secondary (proxy) address" in message and "next plan" not in message


def test_a_provider_that_does_not_say_is_not_guessed_about() -> None:
    [message] = messages("exmail-test-kind", State())
    assert "is not known" in message


def test_a_provider_that_cannot_rename_leaves_it_to_its_own_review() -> None:
    assert messages("exmail", State()) == []


def test_only_renames_are_noted() -> None:
    moved = RENAME.model_copy(update={"key": OLD.email, "after": OLD.model_dump(mode="json"), "changed": ["title"]})
    created = Change(action="create", kind="user", key=NEW.email, after=NEW.model_dump(mode="json"))
    assert old_address_warnings([moved, created], facts_of("google"), State()) == []
