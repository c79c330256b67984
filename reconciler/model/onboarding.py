"""The `onboarding:` section of org.yaml: SMTP server, sender, recipient and password policy.

Part of the org/ schema (`OrgFile.onboarding`); the mail feature (`reconciler.mail`) reads it.
"""

from __future__ import annotations

import email.utils
import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from reconciler.i18n import _
from reconciler.model.types import EMAIL_PATTERN, USER_ID_PATTERN, FilePath, Strict, on_this_machine

ADDRESS = re.compile(EMAIL_PATTERN)
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]


class SmtpSettings(Strict):
    host: Annotated[str, StringConstraints(min_length=1, max_length=253, strip_whitespace=True)] = Field(
        description="The SMTP server (submission or relay), like smtp.gmail.com or smtp.office365.com.")
    port: int = Field(587, ge=1, le=65535, description="587 for STARTTLS, 465 for implicit TLS, 25 for a relay.")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS before signing in or sending.")
    implicit_tls: bool = Field(False, description="Speak TLS from the first byte (port 465) instead of STARTTLS.")
    user: str | None = Field(None, description="The account to sign in as; absent: send without signing in.")
    password_env: Annotated[str, StringConstraints(pattern=ENV_NAME)] = Field(
        "RECONCILER_SMTP_PASSWORD", description="The environment variable that holds the SMTP password.")
    ca_file: FilePath | None = Field(
        None, description="PEM file of the certificate authority to trust (an internal relay); "
        "relative to the folder holding org/. Default: the system's trusted authorities.")
    timeout_seconds: float = Field(30, gt=0, le=3600, description="Seconds to wait for the server at each step.")
    attempts: int = Field(3, ge=1, le=10, description="Tries per message within one apply on temporary errors.")
    retry_seconds: float = Field(5, ge=0, le=3600, description="Wait before the second try; it doubles each try.")

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpSettings:
        if self.starttls and self.implicit_tls:
            raise ValueError(_("starttls and implicit_tls exclude each other: use starttls: false with implicit_tls"))
        if not (self.starttls or self.implicit_tls) and not on_this_machine(self.host):
            # Welcome mail names the new address and the password mail carries a password: never in clear.
            raise ValueError(_("mail to {host} would travel unencrypted: keep starttls: true, or use implicit_tls: "
                               "true (port 465); plain SMTP is only for a relay on this machine").format(
                host=self.host))
        return self



class Links(Strict):
    """Pages the templates link to; each defaults to the provider's own."""

    sign_in: HttpsUrl | None = None
    mail: HttpsUrl | None = None
    calendar: HttpsUrl | None = None
    contacts: HttpsUrl | None = None


class MailSettings(Strict):
    """Welcome and initial-password mail to people whose account an apply has created."""

    smtp: SmtpSettings
    sender: str = Field(description='The From of every message: "IT 部门 <it@acme.com>" or it@acme.com.')
    send_to: Literal["personal", "manager"] = Field(
        "personal", description="personal: the person's personal_email; manager: their manager's address.")
    send_password: Literal["separate", "never"] = Field(
        "separate", description="separate: the initial password in a second message; never: not mailed at all.")
    ledger: FilePath = Field(
        ".reconciler/mail-ledger.jsonl", description="What was sent and what waits for a retry; "
        "relative to the folder holding org/. Must survive between applies (CI: cache it).")
    links: Links = Field(default_factory=Links)
    in_person: list[Annotated[str, StringConstraints(pattern=USER_ID_PATTERN)]] = Field(
        default_factory=list, description="User ids whose first password IT hands over in person (they have no "
        "personal_email, or no manager under send_to: manager); anyone else the mail cannot reach is not created.")
    give_up_after_days: int = Field(
        30, ge=1, le=365, description="A welcome mail still not sent this long after the account was created "
        "is cancelled (and reported) instead of tried again.")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        value = value.strip()
        found = email.utils.getaddresses([value])
        if len(found) != 1 or not ADDRESS.match(found[0][1]) or "\r" in value or "\n" in value:
            raise ValueError(_("{value} is not one sender like 'IT 部门 <it@acme.com>' or it@acme.com").format(
                value=repr(value)))
        return value

    @property
    def sender_address(self) -> str:
        return email.utils.parseaddr(self.sender)[1]

    @property
    def sender_name(self) -> str:
        return email.utils.parseaddr(self.sender)[0]
