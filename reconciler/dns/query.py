"""Asking DNS, with every way it can go wrong told apart.

A lookup ends as an answer, NODATA (the name exists, without records of that
type), NXDOMAIN (the name does not exist), or a failure: SERVFAIL, REFUSED, a
timeout, or a broken reply. Checks treat the first three as facts about the
zone and the failures as "could not check", never as "missing".

Queries go straight to the chosen nameservers with `dns.query` (not through
`dns.resolver`, which folds SERVFAIL, REFUSED and timeouts into one error), with
the recursion-desired flag set, so a recursive resolver and an authoritative
server both work. A CNAME an authoritative server does not follow is chased
here.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Literal

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from reconciler.errors import UserError
from reconciler.i18n import T_, Text, said

LookupStatus = Literal["answer", "nodata", "nxdomain", "servfail", "refused", "timeout", "error"]
FAILURES: frozenset[str] = frozenset({"servfail", "refused", "timeout", "error"})
MAX_CHAIN = 8


class NameserverError(UserError):
    """A nameserver that cannot be used. Its message is a `Text`, kept by `i18n.said`: said in the
    reader's language where the CLI prints it, English where a plan warning (JSON) carries it."""

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        said(self, message)


@dataclass(frozen=True, order=True)
class Nameserver:
    host: str
    port: int = 53

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """`HOST`, `HOST:PORT`, `[IPv6]:PORT` or a bare IPv6 address; a host name is resolved once."""
    spec = text.strip()
    host, port = spec, 53
    if spec.startswith("["):
        host, sep, rest = spec[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise NameserverError(T_("--nameserver {spec!r}: write an IPv6 address with a port as [::1]:5353",
                                     spec=text))
        port = _port(rest[1:], text) if rest else 53
    elif spec.count(":") == 1:
        host, _, port_text = spec.partition(":")
        port = _port(port_text, text)
    if not host:
        raise NameserverError(T_("--nameserver {spec!r}: give a host, like 127.0.0.1 or 127.0.0.1:5353", spec=text))
    try:
        return Nameserver(str(ipaddress.ip_address(host)), port)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as error:
        raise NameserverError(T_("--nameserver {spec!r}: cannot resolve {host!r} ({error})", spec=text, host=host,
                                 error=str(error))) from None
    return Nameserver(str(infos[0][4][0]), port)


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise NameserverError(T_("--nameserver {spec!r}: the port must be a number from 1 to 65535", spec=spec))
    return int(text)


def system_nameservers() -> list[Nameserver]:
    """The resolvers this machine uses (/etc/resolv.conf)."""
    try:
        resolver = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration:
        raise NameserverError(T_("no nameserver configured on this machine; pass --nameserver HOST[:PORT]")) from None
    servers = []
    for entry in resolver.nameservers:
        address = str(entry)
        port = int(resolver.nameserver_ports.get(address, resolver.port))
        try:
            servers.append(Nameserver(str(ipaddress.ip_address(address)), port))
        except ValueError:
            continue  # DNS-over-HTTPS URLs and the like: not ours to use
    if not servers:
        raise NameserverError(T_("no usable nameserver configured on this machine; pass --nameserver HOST[:PORT]"))
    return servers


@dataclass(frozen=True)
class DnsLookup:
    """The outcome of asking for one name and type.

    `values` are in a comparable form: MX `"10 host"`, CNAME and hosts lower-case
    without the final dot, TXT the character-strings joined into one text.
    """

    name: str
    type: str
    status: LookupStatus
    values: tuple[str, ...] = ()
    cnames: tuple[str, ...] = ()  # the aliases passed through on the way, in order
    detail: str = ""  # why it failed: a Text, said where shown

    @property
    def failed(self) -> bool:
        return self.status in FAILURES

    @property
    def exists(self) -> bool:
        return self.status == "answer" and bool(self.values)

    def mx(self) -> list[tuple[int, str]]:
        pairs = []
        for value in self.values:
            priority, _, host = value.partition(" ")
            pairs.append((int(priority), host))
        return sorted(pairs)

    def absence(self) -> str:
        """Why there is nothing, in words an admin understands."""
        if self.status == "nxdomain":
            return T_("{name} does not exist (NXDOMAIN)", name=self.name)
        return T_("no {type} record at {name}", type=self.type, name=self.name)


@dataclass
class DnsClient:
    """Asks the given nameservers in order; remembers answers for the run (SPF includes repeat)."""

    nameservers: list[Nameserver]
    timeout: float = 2.0
    retries: int = 1
    _cache: dict[tuple[str, str], DnsLookup] = field(default_factory=dict)
    # A server that let a whole query time out gets one try per later query, not
    # retries+1: a dead nameserver must not make a run take minutes.
    _silent: set[Nameserver] = field(default_factory=set)

    def lookup(self, name: str, rtype: str) -> DnsLookup:
        key = (name.lower().rstrip("."), rtype)
        if key not in self._cache:
            self._cache[key] = self._resolve(key[0], rtype, 0)
        return self._cache[key]

    def _resolve(self, name: str, rtype: str, depth: int) -> DnsLookup:
        reply = self._exchange(name, rtype)
        if isinstance(reply, DnsLookup):
            return reply
        rcode = reply.rcode()
        chain, answer = _chain(reply, name, rtype)
        if rcode == dns.rcode.NXDOMAIN:
            return DnsLookup(name, rtype, "nxdomain", cnames=chain)
        if answer:
            return DnsLookup(name, rtype, "answer", answer, cnames=chain)
        if chain and rtype != "CNAME" and depth < MAX_CHAIN:
            # An authoritative server stops at a CNAME leaving its zones: follow it.
            onward = self.lookup(chain[-1], rtype)
            return DnsLookup(name, rtype, onward.status, onward.values, chain + onward.cnames, onward.detail)
        if _is_referral(reply):
            return DnsLookup(name, rtype, "error", cnames=chain, detail=T_(
                "{servers} does not answer for {name} and does not recurse (it returned a referral); pass a "
                "recursive resolver, or the domain's own nameserver, with --nameserver",
                servers=self._servers_text(), name=name))
        return DnsLookup(name, rtype, "nodata", cnames=chain)

    def _exchange(self, name: str, rtype: str) -> dns.message.Message | DnsLookup:
        query = dns.message.make_query(dns.name.from_text(name), dns.rdatatype.from_text(rtype))
        failures: list[tuple[LookupStatus, Text]] = []
        for server in sorted(self.nameservers, key=lambda s: s in self._silent):  # answering servers first
            tries = 1 if server in self._silent else self.retries + 1
            timeouts = 0
            for __ in range(tries):
                try:
                    reply, _tcp = dns.query.udp_with_fallback(query, server.host, timeout=self.timeout,
                                                              port=server.port)
                except dns.exception.Timeout:
                    timeouts += 1
                    continue
                except (OSError, dns.exception.DNSException) as error:
                    failures.append(("error", T_("{server}: {kind}: {error}", server=str(server),
                                                 kind=type(error).__name__, error=str(error))))
                    break
                rcode = reply.rcode()
                if rcode == dns.rcode.SERVFAIL:
                    failures.append(("servfail", T_(
                        "{server} answered SERVFAIL: it could not resolve {name} (often a broken DNSSEC chain or "
                        "unreachable authoritative servers)", server=str(server), name=name)))
                    continue
                if rcode == dns.rcode.REFUSED:
                    failures.append(("refused", T_("{server} REFUSED the query for {name}: it neither serves that "
                                                   "zone nor resolves for us", server=str(server), name=name)))
                    break
                if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    failures.append(("error", T_("{server} answered {rcode} for {name}", server=str(server),
                                                 rcode=dns.rcode.to_text(rcode), name=name)))
                    break
                return reply
            seconds = f"{self.timeout:g}"
            if timeouts == tries and server in self._silent:
                failures.append(("timeout", T_("no answer from {server} for {name} within {seconds} s (it did not "
                                               "answer earlier queries either)", server=str(server), name=name,
                                               seconds=seconds)))
            elif timeouts == tries:
                self._silent.add(server)
                failures.append(("timeout", T_("no answer from {server} for {name} after {tries} try of {seconds} s",
                                               server=str(server), name=name, tries=tries, seconds=seconds)
                                 if tries == 1 else
                                 T_("no answer from {server} for {name} after {tries} tries of {seconds} s",
                                    server=str(server), name=name, tries=tries, seconds=seconds)))
        status, detail = _worst(failures)
        return DnsLookup(name, rtype, status, detail=detail)

    def _servers_text(self) -> str:
        return ", ".join(str(s) for s in self.nameservers)


def _worst(failures: list[tuple[LookupStatus, Text]]) -> tuple[LookupStatus, Text]:
    """The failure to report when every server failed: the last one of the most telling kind."""
    for status in ("servfail", "refused", "timeout", "error"):
        found = [detail for s, detail in failures if s == status]
        if found:
            return status, found[-1]
    return "error", T_("no nameserver to ask")


def _chain(reply: dns.message.Message, name: str, rtype: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Follow the CNAMEs inside one reply: (aliases passed through, values of the final answer)."""
    current = dns.name.from_text(name)
    wanted = dns.rdatatype.from_text(rtype)
    chain: list[str] = []
    for _ in range(MAX_CHAIN + 1):
        rrsets = [r for r in reply.answer if r.name == current]
        exact = [r for r in rrsets if r.rdtype == wanted]
        if exact:
            return tuple(chain), tuple(_value(rtype, rdata) for r in exact for rdata in r)
        alias = [r for r in rrsets if r.rdtype == dns.rdatatype.CNAME]
        if not alias:
            break
        current = alias[0][0].target
        chain.append(_host(current.to_text()))
    return tuple(chain), ()


def _is_referral(reply: dns.message.Message) -> bool:
    return (not reply.answer and not reply.flags & dns.flags.AA and not reply.flags & dns.flags.RA
            and any(r.rdtype == dns.rdatatype.NS for r in reply.authority))


def _host(text: str) -> str:
    return text.lower().rstrip(".") or "."


def _value(rtype: str, rdata: object) -> str:
    if rtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", errors="replace")  # type: ignore[attr-defined]
    if rtype == "MX":
        return f"{rdata.preference} {_host(rdata.exchange.to_text())}"  # type: ignore[attr-defined]
    if rtype == "CNAME":
        return _host(rdata.target.to_text())  # type: ignore[attr-defined]
    if rtype == "SRV":
        return (f"{rdata.priority} {rdata.weight} {rdata.port} "  # type: ignore[attr-defined]
                f"{_host(rdata.target.to_text())}")  # type: ignore[attr-defined]
    return str(rdata)
