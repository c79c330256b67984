"""kill -9 during `reconciler apply`, on the local directory and on each emulator: the next
applies converge, with no duplicate account, no welcome mail lost or sent twice, no initial
password lost without a word, no damaged file, no lock that needs a human, and no secret in any
output. A few kill points per provider here; benchmarks/crash.py runs many more, with random
delays, and reports the figures.

Where the apply stops is decided from outside the product (crash_support.py): the emulator holds
the Nth write request, the SMTP server holds the Nth message, or the directory file was replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.mail.onboarding import DeliveryReport, Onboarding
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.alimail.client import ENDPOINT_ENV as ALIMAIL_ENDPOINT
from reconciler.providers.alimail.client import SECRET_ENV as ALIMAIL_SECRET
from reconciler.providers.exmail.client import ENDPOINT_ENV as EXMAIL_ENDPOINT
from reconciler.providers.exmail.client import SECRET_ENV as EXMAIL_SECRETS
from reconciler.providers.google.client import ENDPOINT_ENV as GOOGLE_ENDPOINT
from reconciler.providers.local import LocalProvider
from reconciler.providers.microsoft.client import ENDPOINT_ENV as GRAPH_ENDPOINT
from tests import google_support, test_microsoft_provider
from tests.applying import apply_all
from tests.crash_support import (
    Either,
    FileWatch,
    RequestGate,
    Round,
    SmtpGate,
    Tenant,
    Trigger,
    accounts_of,
    kill_round,
    people,
    scan_outputs,
    with_onboarding,
)
from tests.emulators.alimail import AlimailEmulator
from tests.emulators.exmail import ExmailEmulator
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.smtp_support import Cert, Server, StartServer
from tests.test_mail import CHEN, EMILY, NOW, TODAY, WELCOME_EN, WELCOME_ZH, repo, seeded_directory, settings

from .conftest import EXAMPLE_ORG

pytestmark = pytest.mark.slow  # runs first in `make test` (tests/conftest.py)

__all__ = ["repo", "seeded_directory"]  # fixtures, shared with test_mail

KINDS = ("local", "google", "microsoft", "exmail", "alimail")


def _provider_block(kind: str) -> str:
    return {
        "google": "provider:\n  kind: google\n  admin: admin@acme.com\n"
                  "  rate_limit: {backoff_seconds: 0.02, calls: 1000000}\n",
        "microsoft": "provider:\n  kind: microsoft\n  tenant: acme.com\n"
                     "  client_id: 00000000-0000-0000-0000-000000000001\n  usage_location: CN\n",
        "exmail": "provider:\n  kind: exmail\n  corp_id: wm-crash\n  domain: acme.com\n  calls_per_second: 1000\n",
        "alimail": "provider:\n  kind: alimail\n  app_id: alimail-crash\n  domain: acme.com\n"
                   "  requests_per_second: 40\n",
    }[kind]


def start_emulator(kind: str) -> tuple[Any, dict[str, str]]:
    """The emulator for `kind`, started, and the environment the CLI needs to reach it."""
    if kind == "google":
        emu: Any = GoogleEmulator(domains=("acme.com",), domain_aliases={"acme.cn": "acme.com"},
                                  skus=google_support.SKUS, anonymous=False).start()
        return emu, {GOOGLE_ENDPOINT: emu.url}
    if kind == "microsoft":
        # Seats for every round of benchmarks/crash.py (3 people each): out of seats, no plan converges.
        skus = {sku: 1_000 for sku in test_microsoft_provider.SKUS}
        emu = GraphEmulator(domains=("acme.com", "acme.cn"), skus=skus).start()
        return emu, {GRAPH_ENDPOINT: emu.url}
    if kind == "exmail":
        emu = ExmailEmulator(corp_id="wm-crash", domains=("acme.com", "acme.cn")).start()
        return emu, {EXMAIL_ENDPOINT: emu.url, **{var: emu.secrets[app] for app, var in EXMAIL_SECRETS.items()}}
    emu = AlimailEmulator(app_id="alimail-crash", domains=("acme.com", "acme.cn"), requests_per_second=None).start()
    return emu, {ALIMAIL_ENDPOINT: emu.url, ALIMAIL_SECRET: emu.secret}


def make_tenant(kind: str, root: Path, server: Server, cert: Cert) -> tuple[Tenant, Callable[[], None]]:
    """A repo with the example org applied to `kind` (no mail: those people exist already), then
    onboarding mail turned on; and how to stop its emulator."""
    shutil.copytree(EXAMPLE_ORG, root / "org")
    emu, env = (None, {}) if kind == "local" else start_emulator(kind)
    if kind != "local":
        settings = root / "org" / "org.yaml"
        settings.write_text(re.sub(r"provider:\n(  .*\n)+", _provider_block(kind), settings.read_text()))
    tenant = Tenant(kind, root, env, accounts_of(kind, emu, root), emu)
    seeded = tenant.run("apply", "--yes")
    assert seeded.returncode == 0, seeded.stderr
    with_onboarding(root / "org", server.port, cert.cert)
    return tenant, (emu.stop if emu is not None else (lambda: None))


@pytest.fixture(params=KINDS)
def tenant(request: pytest.FixtureRequest, tmp_path: Path, smtp_server: StartServer,
           cert: Cert) -> Iterator[tuple[Tenant, Server]]:
    server = smtp_server(tls=cert.server_context(), auth=True)
    made, stop = make_tenant(request.param, tmp_path / "repo", server, cert)
    # The applies and plans after each kill run the CLI's entry point in this process (the killed
    # apply is a real process, and benchmarks/crash.py runs every step as one): each state they
    # start from is on disk and at the provider, as a new process finds it.
    made.in_process = True
    try:
        yield made, server
    finally:
        stop()


def kill_points(tenant: Tenant, server: Server) -> list[tuple[str, Callable[[], Trigger]]]:
    """A few points: on the local directory, inside the wave that creates people and the mail
    step's two windows (the first welcome mail delivered but not recorded; the second person's
    password mail not yet delivered, after the first person's two mails were); at each remote
    provider, a create carried out whose answer never came, and the second of those mail windows
    (the first is the same whatever the provider; benchmarks/crash.py kills every provider at 21
    points)."""
    inbox = server.inbox
    mail = [("smtp-1-after", lambda: SmtpGate(inbox, 1, after=True)),
            ("smtp-4-before", lambda: SmtpGate(inbox, 4, after=False))]
    if tenant.kind == "local":
        directory = tenant.repo / ".reconciler" / "directory.json"
        return [("wave-1", lambda: Either(FileWatch(directory, 1), SmtpGate(inbox, 1, after=False))), *mail]
    emu = tenant.emulator
    return [("write-1-after", lambda: RequestGate(emu, 1, after=True)), mail[1]]


def test_a_killed_apply_converges_without_duplicates_lost_mail_or_leaked_secrets(
        tenant: tuple[Tenant, Server]) -> None:
    made, server = tenant
    rounds: list[Round] = []
    for n, (label, arm) in enumerate(kill_points(made, server)):
        rounds.append(kill_round(made, label, people(3 * n, 3), arm, server.inbox))
    scan_outputs(made, rounds[-1], server.inbox.received)  # every output of every round
    for round_ in rounds:
        assert round_.killed, round_.label
        assert round_.ok, round_
        assert round_.applies == 1, round_  # one apply after the kill converges
    # Each mail window was met: a welcome delivered but not recorded went out again (same
    # Message-ID: at least once), and passwords the killed apply never sent were reported.
    by_label = {r.label: r for r in rounds}
    if made.kind == "local":
        assert by_label["smtp-1-after"].welcome_copies == 1
    killed_in_mail = by_label["smtp-4-before"]
    assert (killed_in_mail.passwords_mailed, killed_in_mail.passwords_reported) == (1, 2)


# --- the ledger's side of it, in process -------------------------------------------------------------


def _plan(repo: Path) -> tuple[Any, list[Any]]:
    org, issues = load_org(repo / "org")
    provider = LocalProvider(repo / ".reconciler" / "directory.json")
    return org, list(build_plan(org, issues, provider, TODAY).plan.changes)


def _apply_and_mail(repo: Path, mail: Any) -> DeliveryReport:
    """What `reconciler apply` does: plan, settle, apply (telling the mailer before and after
    each wave), deliver."""
    org, changes = _plan(repo)
    with Onboarding(org, mail, "local", environ={}, now=lambda: NOW) as onboarding:
        onboarding.settle(changes)
        applied = apply_all(changes, LocalProvider(repo / ".reconciler" / "directory.json"),
                            on_created=onboarding.created, on_creating=onboarding.creating)
        assert applied.ok
        return onboarding.deliver()


def test_people_a_killed_apply_never_created_get_one_account_and_one_of_each_mail(
        repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    mail = settings(server.port)
    org, changes = _plan(repo)
    creates = [c for c in changes if c.kind == "user" and c.action == "create"]
    earlier = NOW - dt.timedelta(minutes=5)
    with Onboarding(org, mail, "local", environ={}, now=lambda: earlier) as killed:
        killed.creating(creates)  # ... and the process died before the provider was asked
    delivered = _apply_and_mail(repo, mail)
    assert delivered.counts()["sent"] == 4  # a welcome and a password for each, once
    entries = [json.loads(line) for line in
               (repo / ".reconciler" / "mail-ledger.jsonl").read_text(encoding="utf-8").splitlines()[1:]]
    last = {e["entry"]: e for e in entries}
    cancelled = [e for e in last.values() if set(m["state"] for m in e["messages"].values()) == {"cancelled"}]
    assert len(cancelled) == 2 and all(m["error"] == (
        "the apply that was to create the account stopped before it did; a later apply creates it")
        for e in cancelled for m in e["messages"].values())
    assert not any(e.get("outcome_unknown") for e in last.values())
    assert len(server.inbox.received) == 4


def test_people_a_killed_apply_created_get_their_welcome_and_a_reset_is_asked_for(
        repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    mail = settings(server.port)
    org, changes = _plan(repo)
    with Onboarding(org, mail, "local", environ={}, now=lambda: NOW) as killed:
        # The provider made the accounts; the apply died before it heard back.
        assert apply_all(changes, LocalProvider(repo / ".reconciler" / "directory.json"),
                         on_creating=killed.creating).ok
    delivered = _apply_and_mail(repo, mail)
    assert sorted((d.address, d.message, d.outcome) for d in delivered.deliveries) == [
        (CHEN, "password", "needs_reset"), (CHEN, "welcome", "sent"),
        (EMILY, "password", "needs_reset"), (EMILY, "welcome", "sent")]
    assert "It is kept nowhere: reset the password at the provider and hand it over in person" in delivered.render()
    assert [r.subject for r in server.inbox.received] == [WELCOME_ZH, WELCOME_EN]
