"""DNS records a domain must publish: those it declares itself in domains.yaml (`records:`),
and those a provider says it needs (`ProviderDomainRecords`, from a provider's `dns_records`).

For the local provider, or a self-hosted relay next to a cloud provider, only
the admin knows what DNS must say; they list it here and `reconciler dns`
checks it like the records a provider needs:

```yaml
- name: acme.com
  primary: true
  records:
    - {type: MX, name: "@", value: mail.acme.com, priority: 10}
    - {type: TXT, name: "@", value: "v=spf1 mx -all"}
    - {type: A, name: mail, value: 192.0.2.25}
```

Part of the org/ schema (`DomainEntry.records`); it imports only pydantic, since
loading org/ must not pay for dnspython.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator, model_validator

from reconciler.i18n import _
from reconciler.model.types import Strict

RecordType = Literal["MX", "TXT", "CNAME", "A", "AAAA"]
RECORD_TYPES: tuple[str, ...] = ("MX", "TXT", "CNAME", "A", "AAAA")
# A provider may also name SRV records (Teams' _sip._tls); domains.yaml declares only the types above.
ProviderRecordType = Literal["MX", "TXT", "CNAME", "A", "AAAA", "SRV"]
# What a record is for; `reconciler dns` judges one expectation per purpose (DKIM and records: per name).
Purpose = Literal["mx", "spf", "dkim", "dmarc", "verification", "autodiscover", "apex", "record"]

# A name relative to the domain: "@" for the domain itself, else labels that may
# start with "_" (_dmarc, selector._domainkey).
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?"
RELATIVE_NAME = re.compile(rf"^(@|{_LABEL}(\.{_LABEL})*)$")
HOST_NAME = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}\.?$")
MAX_TXT = 4000  # far above any real SPF or DKIM record; keeps a typo from becoming a megabyte


class RequiredRecord(Strict):
    """One record the domain must publish: checked present and equal by `reconciler dns`."""

    type: RecordType = Field(description="MX, TXT, CNAME, A or AAAA.")
    name: str = Field("@", description="Relative to the domain: '@' for the domain itself, or 'mail', '_dmarc' ...")
    value: str = Field(
        description="MX and CNAME: a host name; A/AAAA: an address; TXT: the text, without quotes.",
        min_length=1, max_length=MAX_TXT,
    )
    priority: int | None = Field(None, ge=0, le=65535, description="MX only: the preference (lower is tried first).")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        name = name.strip().lower()
        if not RELATIVE_NAME.match(name):
            raise ValueError(_("{name} is not a name relative to the domain; use '@' for the domain itself, or "
                               "labels like 'mail' or '_dmarc'").format(name=repr(name)))
        return name

    @model_validator(mode="after")
    def _value_fits_type(self) -> RequiredRecord:
        problem = _value_problem(self.type, self.value)
        if problem:
            raise ValueError(problem)
        if self.type == "MX" and self.priority is None:
            raise ValueError(_("an MX record needs a priority (like 10)"))
        if self.type != "MX" and self.priority is not None:
            raise ValueError(_("priority is for MX records only, not {type}").format(type=self.type))
        if self.type == "CNAME" and self.name == "@":
            raise ValueError(_("a CNAME cannot be at the domain itself: no MX or TXT record could live beside it"))
        return self

    @property
    def host_value(self) -> str:
        """The value as compared: host names lower-case without the final dot."""
        if self.type in ("MX", "CNAME"):
            return self.value.strip().lower().rstrip(".")
        if self.type in ("A", "AAAA"):
            return str(ipaddress.ip_address(self.value.strip()))
        return self.value


def _value_problem(rtype: str, value: str) -> str | None:
    text = value.strip()
    if rtype in ("MX", "CNAME"):
        if not HOST_NAME.match(text.lower()):
            return _("{value} is not a host name (like mail.acme.com)").format(value=repr(value))
    elif rtype in ("A", "AAAA"):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return _("{value} is not an IP address").format(value=repr(value))
        if (address.version == 4) != (rtype == "A"):
            return _("{value} is an IPv{version} address; use type {type}").format(
                value=repr(value), version=address.version, type="A" if address.version == 4 else "AAAA")
    elif any(ord(ch) < 32 or ord(ch) > 126 for ch in value):
        return _("TXT values may hold only printable ASCII characters")
    return None


@dataclass(frozen=True)
class ProviderRecord:
    """One record a provider says this domain needs (as Graph's domainDnsRecord describes it)."""

    type: ProviderRecordType
    name: str  # absolute (acme.com, selector1._domainkey.acme.com) or relative ("@", "autodiscover")
    value: str  # MX: host; CNAME: target; TXT: text; A/AAAA: address; SRV: "priority weight port target"
    priority: int | None = None
    purpose: Purpose | None = None  # None: worked out from type, name and value
    required: bool = True
    used_for: str | None = None  # a service other than mail that needs it ("Teams"): never required for mail


@dataclass(frozen=True)
class ProviderDomainRecords:
    """What a provider can say about one domain; `verified` False makes the verification record required."""

    records: tuple[ProviderRecord, ...] = ()
    verified: bool | None = None
