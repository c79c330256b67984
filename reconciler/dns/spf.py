"""SPF records: parsing, and the limits receivers enforce (RFC 7208).

`analyse_spf` reads a domain's record the way a receiver would, following
`include:` and `redirect=` through DNS, and reports what makes receivers
return permerror (more than 10 DNS-querying terms, a loop, an include without
an SPF record, syntax errors) or lets anyone pass (`+all`, also inside an
include). It does not evaluate a sender IP: it checks the record, not a message.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal, Protocol

from reconciler.dns.query import DnsLookup
from reconciler.i18n import T_, Text

LOOKUP_LIMIT = 10  # RFC 7208 §4.6.4: include, a, mx, ptr, exists and redirect count
VOID_LIMIT = 2  # RFC 7208 §4.6.4: lookups answered NXDOMAIN or empty
MAX_RECORDS = 40  # stop reading includes here: enough to say "over the limit", bounded for a hostile chain
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
_MODIFIER = re.compile(r"^([a-z][a-z0-9_.-]*)=(.*)$", re.IGNORECASE)
Qualifier = Literal["+", "-", "~", "?"]
QUALIFIER_WORDS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


class TxtLookup(Protocol):
    def lookup(self, name: str, rtype: str) -> DnsLookup: ...


def is_spf(text: str) -> bool:
    lowered = text.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


@dataclass(frozen=True)
class Term:
    text: str
    name: str  # mechanism or modifier name, lower-case
    argument: str | None
    qualifier: Qualifier = "+"
    modifier: bool = False


def parse_spf(text: str) -> tuple[list[Term], list[Text]]:
    """The terms after `v=spf1`, and the syntax errors (each one a permerror at receivers)."""
    terms: list[Term] = []
    errors: list[Text] = []
    for token in text.split()[1:]:
        if (match := _MODIFIER.match(token)) and ":" not in match.group(1):
            terms.append(Term(token, match.group(1).lower(), match.group(2), modifier=True))
            continue
        qualifier: Qualifier = "+"
        body = token
        if body[:1] in "+-~?":
            qualifier, body = body[0], body[1:]  # type: ignore[assignment]
        name = re.split(r"[:/]", body, maxsplit=1)[0].lower()
        argument = body[len(name) + 1:] if body[len(name):len(name) + 1] == ":" else None
        if name not in MECHANISMS:
            errors.append(T_("unknown term {term!r}", term=token))
            continue
        term = Term(token, name, argument, qualifier)
        problem = _argument_problem(term)
        if problem:
            errors.append(problem)
        terms.append(term)
    return terms, errors


def _argument_problem(term: Term) -> Text | None:
    if term.name in ("include", "exists") and not term.argument:
        return T_("{term!r} needs a domain ({name}:example.com)", term=term.text, name=term.name)
    if term.name in ("ip4", "ip6"):
        try:
            network = ipaddress.ip_network(term.argument or "", strict=False)
        except ValueError:
            return T_("{term!r} is not a valid {name} network", term=term.text, name=term.name)
        if network.version != int(term.name[-1]):
            return T_("{term!r} holds an IPv{version} network", term=term.text, version=network.version)
    if term.name == "all" and term.argument is not None:
        return T_("{term!r}: 'all' takes no argument", term=term.text)
    return None


@dataclass(frozen=True)
class SpfProblem:
    code: str
    severity: Literal["error", "warning"]
    message: Text


@dataclass
class SpfAnalysis:
    domain: str
    record: str
    lookups: int = 0
    void_lookups: int = 0
    reached: list[str] = field(default_factory=list)  # domains whose SPF was read via include/redirect
    trail: list[str] = field(default_factory=list)  # "name: lookup terms" of every record read, in order
    problems: list[SpfProblem] = field(default_factory=list)
    final_all: Qualifier | None = None
    truncated: bool = False

    def add(self, code: str, severity: Literal["error", "warning"], message: Text) -> None:
        self.problems.append(SpfProblem(code, severity, message))


def analyse_spf(domain: str, record: str, dns: TxtLookup) -> SpfAnalysis:
    analysis = SpfAnalysis(domain, record)
    analysis.trail.append(_lookup_terms(domain, record))
    analysis.final_all = _walk(domain, record, dns, analysis, [domain])
    if analysis.lookups > LOOKUP_LIMIT:
        if analysis.truncated:
            message = T_("SPF needs more than {lookups} DNS lookups; receivers stop at {limit} and return permerror "
                         "(RFC 7208 §4.6.4): remove includes you do not send through, or replace some with "
                         "ip4:/ip6: ranges", lookups=analysis.lookups, limit=LOOKUP_LIMIT)
        else:
            message = T_("SPF needs {lookups} DNS lookups; receivers stop at {limit} and return permerror "
                         "(RFC 7208 §4.6.4): remove includes you do not send through, or replace some with "
                         "ip4:/ip6: ranges", lookups=analysis.lookups, limit=LOOKUP_LIMIT)
        analysis.add("spf-too-many-lookups", "error", message)
    if analysis.void_lookups > VOID_LIMIT:
        analysis.add("spf-void-lookups", "error",
                     T_("SPF has {count} lookups that find nothing; receivers allow {limit} (RFC 7208 §4.6.4)",
                        count=analysis.void_lookups, limit=VOID_LIMIT))
    if analysis.final_all == "+":
        analysis.add("spf-pass-all", "error",
                     T_("the SPF record of {domain} ends in +all: every server on the internet may send as "
                        "{domain}", domain=domain))
    elif analysis.final_all in ("?", None):
        analysis.add("spf-neutral-all", "warning",
                     T_("the SPF record of {domain} ends in ?all (neutral): it does not tell receivers to "
                        "distrust other senders; end it in ~all or -all", domain=domain) if analysis.final_all else
                     T_("the SPF record of {domain} ends in no all (neutral): it does not tell receivers to "
                        "distrust other senders; end it in ~all or -all", domain=domain))
    return analysis


def _walk(domain: str, record: str, dns: TxtLookup, analysis: SpfAnalysis, stack: list[str]) -> Qualifier | None:
    """Count this record's lookups and follow its includes; returns its effective `all` qualifier."""
    terms, errors = parse_spf(record)
    for error in errors:
        analysis.add("spf-syntax", "error", T_("SPF of {domain}: {error}; receivers return permerror",
                                               domain=domain, error=error))
    final: Qualifier | None = None
    redirect = None
    for term in terms:
        if term.modifier:
            if term.name == "redirect":
                redirect = term
            continue
        if term.name in LOOKUP_MECHANISMS:
            analysis.lookups += 1
        if term.name == "ptr":
            analysis.add("spf-ptr", "warning", T_("SPF of {domain} uses {term!r}: slow, unreliable and "
                                                  "deprecated (RFC 7208 §5.5); many receivers ignore it",
                                                  domain=domain, term=term.text))
        if term.name == "include" and term.argument:
            included = _follow(term.argument, dns, analysis, stack, "include")
            if included == "+":
                analysis.add("spf-pass-all", "error", T_("{term} in the SPF of {domain} ends in +all: every "
                                                         "server on the internet passes for {origin}",
                                                         term=term.text, domain=domain, origin=analysis.domain))
        if term.name == "all" and final is None:
            final = term.qualifier
    if redirect is not None and final is None:  # redirect= applies only without an 'all'
        analysis.lookups += 1
        if redirect.argument:
            final = _follow(redirect.argument, dns, analysis, stack, "redirect")
    return final


def _follow(target: str, dns: TxtLookup, analysis: SpfAnalysis, stack: list[str], via: str) -> Qualifier | None:
    name = target.lower().rstrip(".")
    if "%" in name:
        analysis.add("spf-macro", "warning", T_("{via}:{target} uses SPF macros; it depends on the sender and was "
                                                "not followed, so its lookups are not counted", via=via,
                                                target=target))
        return None
    if name in stack:
        loop = " -> ".join([*stack, name])
        analysis.add("spf-loop", "error", T_("SPF {via} loop: {loop}; receivers return permerror", via=via,
                                             loop=loop))
        return None
    if len(analysis.trail) >= MAX_RECORDS:
        analysis.truncated = True
        return None
    found = dns.lookup(name, "TXT")
    if found.failed:
        analysis.add("spf-lookup-failed", "error", T_("could not read the SPF of {name} ({via} from {origin}): "
                                                      "{detail}", name=name, via=via, origin=stack[-1],
                                                      detail=found.detail))
        return None
    records = [v for v in found.values if is_spf(v)]
    if not found.exists:
        analysis.void_lookups += 1
    if not records:
        reason = found.absence() if not found.exists else T_("its TXT records hold no v=spf1")
        analysis.add("spf-include-missing", "error", T_("{via}:{target} (from {origin}) has no SPF record: "
                                                        "{reason}; receivers return permerror", via=via,
                                                        target=target, origin=stack[-1], reason=reason))
        return None
    if len(records) > 1:
        analysis.add("spf-include-multiple", "error", T_("{via}:{target} has {count} SPF records; receivers "
                                                         "return permerror", via=via, target=target,
                                                         count=len(records)))
        return None
    analysis.reached.append(name)
    analysis.trail.append(_lookup_terms(name, records[0]))
    return _walk(name, records[0], dns, analysis, [*stack, name])


def _lookup_terms(name: str, record: str) -> str:
    """`name: the terms that cost a lookup`, to show where an SPF record's lookups go."""
    terms, _ = parse_spf(record)
    costly = [t.text for t in terms if t.name in LOOKUP_MECHANISMS or (t.modifier and t.name == "redirect")]
    return f"{name}: {' '.join(costly) if costly else '(no lookups)'}"


def with_include(record: str, include: str) -> str:
    """The record with `include:X` added before its `all` (or redirect), keeping everything else."""
    tokens = record.split()
    term = f"include:{include}"
    for i, token in enumerate(tokens):
        lowered = token.lower().lstrip("+-~?")
        if i and (lowered == "all" or lowered.startswith("redirect=")):
            return " ".join([*tokens[:i], term, *tokens[i:]])
    return " ".join([*tokens, term])


def merge_spf(records: list[str], default_all: str) -> str:
    """One record holding every mechanism of several (their order kept, duplicates dropped)."""
    seen: dict[str, None] = {}
    final = None
    for record in records:
        terms, _ = parse_spf(record)
        for term in terms:
            if term.name == "all":
                final = final or term.text
            elif not (term.modifier and term.name == "redirect"):
                seen.setdefault(term.text, None)
    ending = final if final and final.lstrip("+") != "all" else default_all
    return " ".join(["v=spf1", *seen, ending])
