"""Judging a domain's DNS against what is expected: one `DnsFinding` per record or risk.

Every check asks through a `Resolver` (a `DnsClient` in practice) and says one
of: ok; missing; wrong (what is there and what should be); risky; failed (the
lookup failed: SERVFAIL, REFUSED, timeout; never mistaken for "missing").
Every missing or wrong record comes with the zone-file lines to publish, and
the lines to remove where something must go.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Protocol

from reconciler.dns.expected import Expected
from reconciler.dns.query import DnsLookup
from reconciler.dns.report import DnsFinding, DnsSeverity, RecordStatus, zone_line
from reconciler.dns.spf import LOOKUP_LIMIT, SpfAnalysis, analyse_spf, is_spf, merge_spf, parse_spf, with_include
from reconciler.i18n import T_, Text
from reconciler.model.records import Purpose
from reconciler.providers.facts import facts_of

# What is missing, as the noun of a sentence ('no MX record at acme.com').
MX_RECORD = T_("MX record")
SPF_RECORD = T_("SPF record")
DMARC_RECORD = T_("DMARC record")


class Resolver(Protocol):
    def lookup(self, name: str, rtype: str) -> DnsLookup: ...


def check_domain(domain: str, provider_kind: str, expected: list[Expected], dns: Resolver) -> list[DnsFinding]:
    label = facts_of(provider_kind).display_name
    mx = [e for e in expected if e.purpose == "mx"]
    # MX first: on a nameserver that does not answer, its message is the one with all the tries.
    mx_finding = [check_mx(domain, mx, label, dns)] if mx else []
    findings = check_apex(domain, dns) + mx_finding
    findings.extend(check_spf(domain, next((e for e in expected if e.purpose == "spf"), None), label, dns))
    for item in expected:
        if item.purpose == "dkim":
            findings.append(check_dkim(item, dns))
        elif item.purpose == "dmarc":
            findings.extend(check_dmarc(item, dns))
        elif item.purpose in ("verification", "autodiscover", "record"):
            findings.append(check_record(item, dns))
    return findings


def _finding(purpose: Purpose, code: str, status: RecordStatus, name: str, rtype: str, message: Text, *,
             required: bool = True, **extra: list[str]) -> DnsFinding:
    severity: DnsSeverity = "ok" if status == "ok" else ("error" if required else "warning")
    return DnsFinding(purpose=purpose, code=code, status=status, severity=severity, name=name, type=rtype,
                   message=message, **extra)


def _failed(item: Expected, found: DnsLookup) -> DnsFinding:
    return _finding(item.purpose, f"{item.purpose}-failed", "failed", item.name, item.type,
                    T_("could not read {type} at {name}: {detail}", type=item.type, name=item.name,
                       detail=found.detail), required=item.required)


def _why_missing(found: DnsLookup, what: Text) -> Text:
    """'no MX record at acme.com': `what` is a noun (a Text of its own: 'MX record', 'DKIM key')."""
    if found.status == "nxdomain":
        return T_("no {what}: {name} does not exist (NXDOMAIN)", what=what, name=found.name)
    if not found.exists:
        return T_("no {what} at {name}", what=what, name=found.name)
    return T_("no {what} among the {type} records of {name}", what=what, type=found.type, name=found.name)


def _with_consequence(problem: Text, item: Expected) -> Text:
    consequence = _consequence(item)
    return T_("{problem}; {consequence}", problem=problem, consequence=consequence) if consequence else problem


def _line(item: Expected, value: str | None = None) -> str:
    return zone_line(item.name, item.type, value if value is not None else item.shown, item.priority)


# --- the domain itself ---------------------------------------------------------------------------


def check_apex(domain: str, dns: Resolver) -> list[DnsFinding]:
    found = dns.lookup(domain, "CNAME")
    if not found.exists:
        return []
    target = found.values[0]
    return [_finding("apex", "apex-cname", "risky", domain, "CNAME", T_(
        "{domain} is a CNAME to {target}: no MX, TXT or other record can exist beside a CNAME "
        "(RFC 1034 §3.6.2), so {domain} takes {target}'s mail settings; remove the CNAME and publish "
        "the records itself", domain=domain, target=target), found=[zone_line(domain, "CNAME", target)],
        remove=[zone_line(domain, "CNAME", target)])]


# --- MX ---------------------------------------------------------------------------------------------


def check_mx(domain: str, expected: list[Expected], label: str | Text, dns: Resolver) -> DnsFinding:
    first = expected[0]
    if first.source == "domains.yaml":
        label = T_("the hosts domains.yaml declares")
    found = dns.lookup(domain, "MX")
    if found.failed:
        return _failed(first, found)
    wanted = [zone_line(domain, "MX", e.shown, e.priority) for e in expected]
    shown_expected = [f"{e.priority} {e.shown}" for e in expected]
    have = found.mx() if found.exists else []
    have_lines = [zone_line(domain, "MX", host, prio) for prio, host in have]
    if not have:
        return _finding("mx", "mx-missing", "missing", domain, "MX",
                        T_("{problem}; mail to {domain} cannot be delivered",
                           problem=_why_missing(found, MX_RECORD), domain=domain),
                        required=first.required,
                        expected=shown_expected, publish=wanted)
    if any(host == "." for _, host in have):
        return _finding("mx", "mx-wrong", "wrong", domain, "MX",
                        T_("{domain} publishes a null MX (RFC 7505): it says the domain accepts no mail",
                           domain=domain),
                        required=first.required, found=have_lines, expected=shown_expected, publish=wanted,
                        remove=have_lines)
    foreign = [(p, h) for p, h in have if not any(e.accepts(h) for e in expected)]
    exact = [e for e in expected if e.source == "domains.yaml"]
    absent = [e for e in exact if (e.priority, _norm_host(e.shown)) not in have]
    if foreign and len(foreign) == len(have):
        hosts = ", ".join(h for _, h in foreign)
        return _finding("mx", "mx-wrong", "wrong", domain, "MX",
                        T_("MX points to {hosts}, not to {label}: mail for {domain} does not reach it",
                           hosts=hosts, label=label, domain=domain),
                        required=first.required, found=have_lines, expected=shown_expected, publish=wanted,
                        remove=have_lines)
    if foreign:
        hosts = ", ".join(h for _, h in foreign)
        remove = [zone_line(domain, "MX", h, p) for p, h in foreign]
        return _finding("mx", "mx-elsewhere", "risky", domain, "MX",
                        T_("MX also points to {hosts}: senders may deliver mail for {domain} there instead of "
                           "to {label}", hosts=hosts, domain=domain, label=label),
                        found=have_lines, expected=shown_expected, remove=remove,
                        publish=[_line(e) for e in absent])
    if absent:
        return _finding("mx", "mx-wrong", "wrong", domain, "MX",
                        T_("MX lacks {records}", records=", ".join(f"{e.priority} {e.shown}" for e in absent)),
                        found=have_lines, expected=shown_expected, publish=[_line(e) for e in absent])
    hosts = ", ".join(h for _, h in have)
    return _finding("mx", "mx-ok", "ok", domain, "MX", T_("MX points to {label} ({hosts})", label=label, hosts=hosts),
                    found=have_lines)


def _norm_host(host: str) -> str:
    return host.lower().rstrip(".")


# --- SPF ---------------------------------------------------------------------------------------------


def check_spf(domain: str, expected: Expected | None, label: str, dns: Resolver) -> list[DnsFinding]:
    found = dns.lookup(domain, "TXT")
    required = expected.required if expected else False
    if found.failed:
        item = expected or Expected("spf", domain, "TXT", None, required=False)
        return [_failed(item, found)]
    records = [v for v in found.values if is_spf(v)]
    if not records:
        if expected is None:
            return []
        return [_finding("spf", "spf-missing", "missing", domain, "TXT",
                         T_("{problem}; receivers cannot tell {label}'s mail for {domain} from forgeries",
                            problem=_why_missing(found, SPF_RECORD), label=label, domain=domain),
                         required=required, expected=[expected.shown],
                         publish=[_line(expected)])]
    lines = [zone_line(domain, "TXT", r) for r in records]
    if len(records) > 1:
        merged = merge_spf(records, _ending(expected))
        for include in _includes(expected):
            if f"include:{include}" not in merged.lower().split():
                merged = with_include(merged, include)
        return [_finding("spf", "spf-multiple", "risky", domain, "TXT", T_(
            "{domain} has {count} SPF records: receivers return permerror, so SPF fails for all its "
            "mail; publish one record that merges them", domain=domain, count=len(records)),
            found=lines, publish=[zone_line(domain, "TXT", merged)],
            remove=lines)]
    return _judge_spf(domain, records[0], expected, label, dns)


def _judge_spf(domain: str, record: str, expected: Expected | None, label: str, dns: Resolver) -> list[DnsFinding]:
    analysis = analyse_spf(domain, record, dns)
    line = zone_line(domain, "TXT", record)
    fixed = record
    findings: list[DnsFinding] = []
    if expected is not None and expected.source == "domains.yaml":
        if " ".join(record.split()).lower() != " ".join(expected.shown.split()).lower():
            fixed = expected.shown
            findings.append(_finding("spf", "spf-wrong", "wrong", domain, "TXT",
                                     T_("the SPF record differs from the one domains.yaml declares"),
                                     found=[record], expected=[expected.shown]))
    else:
        direct = {t.argument.lower().rstrip(".") for t in parse_spf(record)[0] if t.name == "include" and t.argument}
        absent = [inc for inc in _includes(expected) if inc not in direct and inc not in analysis.reached]
        for include in absent:
            fixed = with_include(fixed, include)
        if absent:
            findings.append(_finding("spf", "spf-wrong", "wrong", domain, "TXT",
                                     T_("the SPF record does not include {includes}: receivers treat "
                                        "mail {label} sends for {domain} as unauthorised",
                                        includes=", ".join(absent), label=label, domain=domain),
                                     required=expected is None or expected.required,
                                     found=[record], expected=[f"include:{i}" for i in absent]))
    if analysis.final_all in ("+", "?"):
        fixed = _replace_all(fixed, _ending(expected))
    elif analysis.final_all is None and not any(t.name == "redirect" for t in parse_spf(fixed)[0]):
        fixed = f"{fixed} {_ending(expected)}"
    for problem in analysis.problems:
        code_status: RecordStatus = "wrong" if problem.code == "spf-syntax" else "risky"
        findings.append(_finding("spf", problem.code, code_status, domain, "TXT", problem.message,
                                 required=problem.severity == "error", found=_trail(analysis, problem.code)))
    if fixed != record:
        fix = {"publish": [zone_line(domain, "TXT", fixed)], "remove": [line]}
        fixable = ("spf-wrong", "spf-pass-all", "spf-neutral-all")
        findings = [f.model_copy(update=fix) if f.code in fixable else f for f in findings]
    if not findings:
        findings.append(_finding("spf", "spf-ok", "ok", domain, "TXT",
                                 T_("SPF is valid; {lookups} of {limit} DNS lookups", lookups=analysis.lookups,
                                    limit=LOOKUP_LIMIT),
                                 found=[record]))
    return findings


def _trail(analysis: SpfAnalysis, code: str) -> list[str]:
    return list(analysis.trail) if code == "spf-too-many-lookups" else []


def _includes(expected: Expected | None) -> list[str]:
    if expected is None or expected.value is None:
        return []
    return [t.argument.lower().rstrip(".") for t in parse_spf(expected.value)[0]
            if t.name == "include" and t.argument]


def _ending(expected: Expected | None) -> str:
    if expected is not None and expected.value is not None:
        for term in parse_spf(expected.value)[0]:
            if term.name == "all":
                return term.text
    return "~all"


def _replace_all(record: str, ending: str) -> str:
    return " ".join(ending if t.lower().lstrip("+?") == "all" else t for t in record.split())


# --- DKIM ---------------------------------------------------------------------------------------------


def check_dkim(item: Expected, dns: Resolver) -> DnsFinding:
    if item.type == "CNAME":
        return check_record(item, dns)
    found = dns.lookup(item.name, "TXT")
    if found.failed:
        return _failed(item, found)
    keys = [v for v in found.values if "p=" in v.replace(" ", "") or v.strip().lower().startswith("v=dkim1")]
    if not keys:
        return _finding("dkim", "dkim-missing", "missing", item.name, "TXT",
                        _with_consequence(_why_missing(found, T_("DKIM key")), item), required=item.required,
                        expected=[item.shown], publish=[_line(item)])
    found_lines = [zone_line(item.name, "TXT", k) for k in keys]
    if len(keys) > 1:
        return _finding("dkim", "dkim-wrong", "wrong", item.name, "TXT",
                        T_("{count} DKIM keys under one selector: receivers may pick either; keep one",
                           count=len(keys)),
                        required=item.required, found=keys, expected=[item.shown], remove=found_lines[1:])
    problem = _dkim_problem(keys[0], item)
    if problem:
        publish = [_line(item)]
        return _finding("dkim", "dkim-wrong", "wrong", item.name, "TXT", problem, required=item.required,
                        found=keys, expected=[item.shown], publish=publish, remove=found_lines)
    return _finding("dkim", "dkim-ok", "ok", item.name, "TXT", T_("DKIM key published (v=DKIM1, p= set)"),
                    found=[_shorten(keys[0])])


def _dkim_problem(record: str, item: Expected) -> Text | None:
    if item.value is not None:
        if _compact(record) != _compact(item.value):
            return T_("the DKIM key differs from the one the provider signs with")
        return None
    tags = [part.strip() for part in record.split(";") if part.strip()]
    pairs = [(t.partition("=")[0].strip().lower(), t.partition("=")[2].strip()) for t in tags]
    if not pairs or pairs[0] != ("v", "DKIM1"):
        return T_("the DKIM record does not start with v=DKIM1")
    key = dict(pairs).get("p")
    if key is None:
        return T_("the DKIM record has no p= (public key)")
    if not key:
        return T_("the DKIM record has an empty p=: the key is revoked, receivers fail every signature")
    try:
        base64.b64decode(re.sub(r"\s+", "", key), validate=True)
    except (binascii.Error, ValueError):
        return T_("the p= of the DKIM record is not base64: copy the key again, without line breaks or quotes")
    return None


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _shorten(text: str, keep: int = 80) -> str:
    return text if len(text) <= keep else text[:keep] + "..."


# --- DMARC --------------------------------------------------------------------------------------------


def check_dmarc(item: Expected, dns: Resolver) -> list[DnsFinding]:
    found = dns.lookup(item.name, "TXT")
    if found.failed:
        return [_failed(item, found)]
    records = [v for v in found.values if v.strip().lower().startswith("v=dmarc1")]
    if not records:
        return [_finding("dmarc", "dmarc-missing", "missing", item.name, "TXT", T_(
            "{problem}; receivers get no policy for mail failing SPF and DKIM, and Gmail and Yahoo require one "
            "of bulk senders; start with p=none and read the reports",
            problem=_why_missing(found, DMARC_RECORD)),
            required=item.required, expected=[item.shown],
            publish=[_line(item)])]
    lines = [zone_line(item.name, "TXT", r) for r in records]
    if len(records) > 1:
        return [_finding("dmarc", "dmarc-multiple", "risky", item.name, "TXT",
                         T_("{count} DMARC records: receivers ignore DMARC when there is more than one "
                            "(RFC 7489 §6.6.3); keep one", count=len(records)),
                         required=item.required, found=records, remove=lines[1:])]
    record = records[0]
    if item.source != "documented" and _compact(record).lower() != _compact(item.shown).lower():
        return [_finding("dmarc", "dmarc-wrong", "wrong", item.name, "TXT",
                         T_("the DMARC record differs from the one {source} declares", source=item.source),
                         required=item.required, found=[record],
                         expected=[item.shown], publish=[_line(item)], remove=lines)]
    tags = dict((p.partition("=")[0].strip().lower(), p.partition("=")[2].strip().lower())
                for p in record.split(";") if p.strip())
    policy = tags.get("p")
    if policy not in ("none", "quarantine", "reject"):
        return [_finding("dmarc", "dmarc-wrong", "wrong", item.name, "TXT",
                         T_("the DMARC record has no valid p= (none, quarantine or reject): receivers ignore it"),
                         required=item.required, found=[record], expected=[item.shown],
                         publish=[_line(item)], remove=lines)]
    if policy == "none":
        return [_finding("dmarc", "dmarc-none", "risky", item.name, "TXT", T_(
            "DMARC policy is p=none: receivers report but still deliver mail that forges the domain; move to "
            "p=quarantine, then p=reject, once the reports show only your own senders"), required=False,
            found=[record])]
    return [_finding("dmarc", "dmarc-ok", "ok", item.name, "TXT", T_("DMARC policy is p={policy}", policy=policy),
                     found=[record])]


# --- one record with a known value or rule (verification, autodiscover, DKIM CNAMEs, declared) ----------


def check_record(item: Expected, dns: Resolver) -> DnsFinding:
    found = dns.lookup(item.name, item.type)
    if found.failed:
        return _failed(item, found)
    values = list(found.values) if found.exists else []
    ok = [v for v in values if item.accepts(v)]
    if ok:
        return _finding(item.purpose, f"{item.purpose}-ok", "ok", item.name, item.type, _fine(item, ok[0]),
                        found=[_shorten(v) for v in ok])
    if not values or (item.type == "TXT" and item.purpose == "verification"):
        return _finding(item.purpose, f"{item.purpose}-missing", "missing", item.name, item.type,
                        _with_consequence(_why_missing(found, _what(item)), item), required=item.required,
                        expected=[item.shown], publish=[_line(item)])
    found_lines = [zone_line(item.name, item.type, v) for v in values]
    replace_all = item.type == "CNAME"  # a name holds one CNAME: the wrong one goes
    return _finding(item.purpose, f"{item.purpose}-wrong", "wrong", item.name, item.type,
                    T_("{name} is {type} {values}; it should be {expected}", name=item.name, type=item.type,
                       values=", ".join(_shorten(v) for v in values), expected=item.described),
                    required=item.required, found=found_lines,
                    expected=[item.described], publish=[_line(item)], remove=found_lines if replace_all else [])


def _what(item: Expected) -> Text:
    if item.purpose == "verification":
        return T_("verification token")
    if item.purpose == "dkim":
        return T_("DKIM {type}", type=item.type)
    if item.purpose == "record":
        return T_("{type} record {value}", type=item.type, value=item.shown)
    return T_("{type} record", type=item.type)


def _consequence(item: Expected) -> Text | None:
    """What a missing record costs, the clause after its '; '."""
    if item.used_for:
        return T_("only {service} needs it, not mail", service=item.used_for)
    if item.purpose == "verification":
        return T_("the provider cannot verify that you own the domain (if it is verified already, this is only a "
                  "reminder)")
    if item.purpose == "autodiscover":
        return T_("Outlook cannot find the mailbox settings by itself")
    if item.purpose == "dkim":
        return T_("mail is not signed for this domain, so DMARC rests on SPF alone")
    return None


def _fine(item: Expected, value: str) -> Text:
    if item.purpose == "verification":
        return T_("verification token published")
    if item.type == "CNAME":
        return T_("{name} points to {value}", name=item.name, value=value)
    return T_("{type} {name} is as expected", type=item.type, name=item.name)
