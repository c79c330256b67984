"""The building blocks of the org/ schema: the strict base model, the patterns values must
match (with what each means, for error messages), and the small value types every file uses.

Every module of the schema (files, records, onboarding) builds on these, so an address is
checked by one pattern and an unknown key refused by one base class.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from reconciler.i18n import N_, _

KEY_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
DOMAIN_PATTERN = r"(?i)^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
EMAIL_PATTERN = r"(?i)^[a-z0-9]([a-z0-9._+-]*[a-z0-9])?@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$"
# A local part or a full address, as org/ lets aliases and members be written.
ADDRESS_PATTERN = r"(?i)^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63})?$"

USER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PHONE_PATTERN = r"^\+?[0-9 ()-]{3,32}$"
NAME_PART_PATTERN = r"^[a-z0-9._-]+$"

# What each pattern means, for error messages an admin can act on: whole sentences ("{value} is
# not ..."), since another language puts the value elsewhere; translated where said (`_`).
PATTERN_MEANINGS: dict[str, str] = {
    KEY_PATTERN: N_("{value} is not a key of lower-case letters, digits and '-' (like 'sales-east')"),
    DOMAIN_PATTERN: N_("{value} is not a domain name (like acme.com)"),
    EMAIL_PATTERN: N_("{value} is not an email address (like name@acme.com)"),
    ADDRESS_PATTERN: N_("{value} is not a local part or an address (like 'san.zhang' or 'san.zhang@acme.com')"),
    USER_ID_PATTERN: N_("{value} is not an id of letters, digits, '.', '_' and '-' (like E1001)"),
    PHONE_PATTERN: N_("{value} is not a phone number of digits, spaces, '()', '-' and a leading '+'"),
    NAME_PART_PATTERN: N_("{value} is not lower-case letters, digits, '.', '_' or '-'"),
}

Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=64)]
DomainName = Annotated[str, StringConstraints(pattern=DOMAIN_PATTERN, max_length=253, to_lower=True)]
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254, to_lower=True)]
AddressOrLocal = Annotated[str, StringConstraints(pattern=ADDRESS_PATTERN, to_lower=True)]
UserId = Annotated[str, StringConstraints(pattern=USER_ID_PATTERN)]
NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]



_CONTROL_NAMES = {"\n": N_("a line break"), "\r": N_("a carriage return"), "\t": N_("a tab"), "\0": N_("a NUL byte"),
                  "\u2028": N_("a line separator"), "\u2029": N_("a paragraph separator")}


def _no_control_characters(path: str) -> str:
    """A path is one line of plain text: a line break in it would, written to a workflow's step
    outputs, start another output (overriding the provider kind or the cache path)."""
    for position, char in enumerate(path):
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            name = _(_CONTROL_NAMES.get(char, N_("a control character")))
            raise ValueError(_("the path has {name} (U+{code}) at character {position}; a path must be one line of "
                               "plain text").format(name=name, code=f"{ord(char):04X}", position=position + 1))
    return path


# A file path in org.yaml (the local directory file, the mail ledger, a CA file).
FilePath = Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_no_control_characters)]

Service = Literal["mail", "calendar", "drive", "chat", "meet"]
SERVICES: tuple[str, ...] = ("mail", "calendar", "drive", "chat", "meet")
AdminRole = Literal[
    "super-admin",
    "user-admin",
    "groups-admin",
    "help-desk-admin",
    "billing-admin",
    "security-admin",
    "reports-admin",
]
ProviderKind = Literal["local", "google", "microsoft", "exmail", "alimail"]
# Simplified Chinese, Traditional Chinese as Taiwan and as Hong Kong write it, English: the languages
# org/templates/ has mail in. The CLI speaks zh-CN to every Chinese locale (reconciler/i18n.py).
Locale = Literal["zh-CN", "zh-TW", "zh-HK", "en-US"]
Status = Literal["active", "suspended", "frozen", "offboarded"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def on_this_machine(host: str) -> bool:
    """localhost or a loopback address: the only place a password may go unencrypted, or an
    emulator without credentials may be."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
