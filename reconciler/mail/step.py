"""The onboarding-mail step of `reconciler apply`, in the few calls the CLI makes.

A no-op when org.yaml has no `onboarding:` section, so the CLI calls it the
same way either way. It never prints: `deliver()` returns the text to show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

from reconciler.changes import Change
from reconciler.errors import UserError
from reconciler.i18n import _, ngettext, say
from reconciler.mail.onboarding import DeliveryReport, Onboarding
from reconciler.mail.routes import Route, first_password_routes, reset_routes
from reconciler.model.onboarding import MailSettings
from reconciler.model.org import Org


class OnboardingMail:
    def __init__(self, org: Org, settings: MailSettings | None, provider_kind: str, *,
                 environ: Mapping[str, str] | None = None) -> None:
        self.org = org
        self.mailer = None if settings is None else Onboarding(org, settings, provider_kind, environ=environ)
        self.report: DeliveryReport | None = None

    def __enter__(self) -> OnboardingMail:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()

    @property
    def on_created(self) -> Callable[[Change, str], None] | None:
        """For `apply_changes(..., on_created=...)`."""
        return None if self.mailer is None else self.mailer.created

    @property
    def on_creating(self) -> Callable[[Sequence[Change]], None] | None:
        """For `apply_changes(..., on_creating=...)`: who may exist if the apply is killed mid-wave."""
        return None if self.mailer is None else self.mailer.creating

    def settle(self, changes: Sequence[Change]) -> None:
        """Settle what an apply killed mid-wave left in the ledger, from this apply's plan."""
        if self.mailer is not None:
            self.mailer.settle(changes)

    def check(self, changes: Sequence[Change]) -> None:
        """Refuse an apply that creates people, or resets passwords, where the password could not be
        mailed: it would be lost (and a reset one would lock the person out)."""
        if lost := [r for r in reset_routes(self.org, changes) if not r.expected]:
            raise UserError(_("not applying: the new password of these resets would reach nobody, and lock the "
                              "person out:") + "\n  " + "\n  ".join(_lost(r) for r in lost))
        resets = any("mail_password" in c.effects for c in changes)
        if self.mailer is None or not (resets or any(c.kind == "user" and c.action == "create" for c in changes)):
            return
        if lost := [r for r in first_password_routes(self.org, changes) if not r.expected]:
            raise UserError(_("not applying: the first password of these new people would reach nobody (add a "
                              "personal_email, or a manager, or list them in onboarding.in_person):")
                            + "\n  " + "\n  ".join(_lost(r) for r in lost))
        if problems := self.mailer.preflight():
            raise UserError(_("not applying: the onboarding mail for the new people could not be sent, and their "
                              "initial passwords would be lost:") + "\n  " + "\n  ".join(say(p) for p in problems))

    def deliver(self) -> str:
        """Send this apply's mail and what earlier applies could not send; the report to print ('' if none)."""
        if self.mailer is None:
            return ""
        try:
            self.report = self.mailer.deliver()
        finally:
            self.close()
        return self.report.render()

    def raise_if_unsent(self) -> None:
        if self.report is not None and not self.report.ok:
            counts = self.report.counts()
            pending, lost = counts["pending"], counts["needs_reset"]
            raise UserError(_("onboarding mail: {messages} to retry on the next apply, {passwords} to reset "
                              "(see above)").format(
                messages=ngettext("{count} message", "{count} messages", pending).format(count=pending),
                passwords=ngettext("{count} initial password", "{count} initial passwords", lost).format(count=lost)))


def _lost(route: Route) -> str:
    return _("{address} ({user}): {how}").format(address=route.address, user=route.user_id, how=say(route.how))
