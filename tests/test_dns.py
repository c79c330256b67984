"""`reconciler dns` against a real DNS server: Debian's nsd on a loopback port serving tests/dns/*.zone.

The zones: a correct Google Workspace domain (gmail-ok.test), a correct
Microsoft 365 domain (m365ok.test), broken ones (no MX, two SPF records, SPF
over ten lookups through includes, no DMARC, a revoked DKIM key, MX also
elsewhere, +all, ?all, an include loop, a CNAME as the mail domain, a domain
that does not exist, Microsoft half set up), a self-hosted relay (relay.test), and
copies of Google's and Microsoft's own SPF records (google.com, outlook.com) so
that includes resolve offline. Timeouts and SERVFAIL come from two tiny UDP
servers here: one that never answers, one that answers SERVFAIL.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
import yaml
from pydantic import ValidationError

from reconciler.changes import PlanWarning
from reconciler.dns.check import check_domain
from reconciler.dns.expected import expected_records
from reconciler.dns.query import DnsClient, Nameserver, parse_nameserver
from reconciler.dns.report import DnsFinding, DnsReport, DomainReport, zone_line
from reconciler.dns.run import check_domains, check_org, declared_records, dns_warnings, make_client
from reconciler.dns.spf import merge_spf, parse_spf, with_include
from reconciler.errors import UserError
from reconciler.model.loader import load_org
from reconciler.model.org import Org
from reconciler.model.records import ProviderDomainRecords, ProviderRecord, RequiredRecord
from reconciler.render.dns import render_dns, render_dns_markdown

ZONES = Path(__file__).parent / "dns"
DKIM_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt87fD4/YLPJ9PfUOUObzFD/3uiYfPVKA/ukR2Jsd6u53DM0Po2EK/IG5IVK167if"
    "NQE+hY2WtjCv0gLfcCS+ZCFQdzqOQsjinqEevMo6uHXJYBGWkhEvI0P3qCxSInGIDNJdbA/VRlB/vPUujkihf77J475ySI1nScWRDoRwnGS/"
    "fLw+7PEZP/7ICqyIhFP6aAhslCuGNgO0iLjmIXg+9fznjb5GdZpVq5y2GAIwIj4DQn7erOO2cwSRcRlgrmgZJ9R2+0ejvIO/TwfjEutnJ4kn"
    "/2slsfCs2mSpTWoyi40D9Ws3x98lPlg6b4ywBhBjIj2VeJuqd6UCD5gk0031XQIDAQAB"
)
GOOGLE_DKIM_PLACEHOLDER = ("v=DKIM1; k=rsa; p=<public key from the Admin console: Apps > Google Workspace > "
                           "Gmail > Authenticate email>")
MS_TENANT = "m365ok.onmicrosoft.com"


def run_dns_check(org: Org, kind: str, nameserver: str, timeout: float, retries: int, fmt: str) -> tuple[str, int]:
    """`reconciler dns` as the CLI runs it: the report rendered, and its exit code."""
    report = check_domains(org, kind, nameserver, timeout, retries)
    return render_dns(report, fmt), report.exit_code


# --- the servers -----------------------------------------------------------------------------------


def _nsd_binary() -> str | None:
    found = shutil.which("nsd")
    if found:
        return found
    return "/usr/sbin/nsd" if os.access("/usr/sbin/nsd", os.X_OK) else None  # sbin is off non-root PATHs


def _free_port() -> int:
    """A loopback port free for UDP and TCP both, as nsd binds both."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
                socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def _nsd_config(work: Path, port: int) -> str:
    lines = [
        "server:",
        f"  ip-address: 127.0.0.1@{port}",
        f"  port: {port}",
        '  username: ""',
        '  chroot: ""',
        '  database: ""',
        f"  zonelistfile: {work / 'zone.list'}",
        f"  xfrdfile: {work / 'xfrd.state'}",
        f"  xfrdir: {work}",
        f"  pidfile: {work / 'nsd.pid'}",
        f"  logfile: {work / 'nsd.log'}",
        "  server-count: 1",
        "remote-control:",
        "  control-enable: no",
    ]
    for zone in sorted(ZONES.glob("*.zone")):
        lines += ["zone:", f"  name: {zone.name.removesuffix('.zone')}", f"  zonefile: {zone}"]
    return "\n".join(lines) + "\n"


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    """True once nsd answers; False if it could not bind its port (taken since it was chosen)."""
    query = dns.message.make_query("gmail-ok.test", "SOA")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text() if log.exists() else ""
            if "Address already in use" in text:
                return False
            pytest.fail(f"nsd exited with {process.returncode}: {text}")
        try:
            reply = dns.query.udp(query, "127.0.0.1", port=port, timeout=0.2)
        except (dns.exception.Timeout, OSError):
            continue
        if reply.rcode() == dns.rcode.NOERROR and reply.answer:
            return True
    pytest.fail(f"nsd did not answer on 127.0.0.1:{port} within 10 s: {log.read_text() if log.exists() else ''}")


@pytest.fixture(scope="session")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`127.0.0.1:PORT` of an nsd serving every zone in tests/dns/."""
    binary = _nsd_binary()
    if binary is None:
        reason = ("nsd is not installed (apt-get install -y --no-install-recommends nsd): the DNS tests need a "
                  "real DNS server")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    for _ in range(5):  # a port chosen free may be taken by another process before nsd binds it
        work = tmp_path_factory.mktemp("nsd")
        port = _free_port()
        config = work / "nsd.conf"
        config.write_text(_nsd_config(work, port))
        checked = subprocess.run([str(Path(binary).with_name("nsd-checkconf")), str(config)],
                                 capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
        process = subprocess.Popen([binary, "-d", "-c", str(config)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            if _wait_ready(process, port, work / "nsd.log"):
                yield f"127.0.0.1:{port}"
                return
        finally:
            process.terminate()
            process.wait(timeout=10)
    pytest.fail("nsd found no free loopback port in 5 tries")


@pytest.fixture
def silent() -> Iterator[str]:
    """A nameserver that receives queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


class ServfailServer:
    """Answers every query with SERVFAIL, as a resolver whose upstreams are broken does."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.queries: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            self.queries.append(f"{query.question[0].name} {dns.rdatatype.to_text(query.question[0].rdtype)}")
            reply = dns.message.make_response(query)
            reply.set_rcode(dns.rcode.SERVFAIL)
            self.sock.sendto(reply.to_wire(), peer)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def servfail() -> Iterator[ServfailServer]:
    server = ServfailServer()
    try:
        yield server
    finally:
        server.close()


# --- helpers ----------------------------------------------------------------------------------------


def make_org(tmp_path: Path, provider: dict[str, Any], domains: list[str]) -> Org:
    org_dir = tmp_path / "org"
    org_dir.mkdir(parents=True, exist_ok=True)
    (org_dir / "org.yaml").write_text(yaml.safe_dump({"name": "DNS test", "provider": provider}))
    entries = [{"name": d, "primary": True} if i == 0 else {"name": d} for i, d in enumerate(domains)]
    (org_dir / "domains.yaml").write_text(yaml.safe_dump(entries))
    org, issues = load_org(org_dir)
    assert issues == []
    return org


GOOGLE = {"kind": "google", "admin": "admin@gmail-ok.test"}
MICROSOFT = {"kind": "microsoft", "tenant": MS_TENANT, "client_id": "11111111-2222-3333-4444-555555555555"}


def client(*servers: str, timeout: float = 1.0, retries: int = 0) -> DnsClient:
    return make_client(list(servers), timeout, retries)


def google_findings(nsd: str, domain: str) -> list[DnsFinding]:
    return check_domain(domain, "google", expected_records(domain, "google"), client(nsd))


def problems(findings: list[DnsFinding]) -> list[dict[str, Any]]:
    """The findings that are not ok, whole (without `found`, which tests look at separately)."""
    return [f.model_dump(exclude={"found"}) for f in findings if f.status != "ok"]


def oks(findings: list[DnsFinding]) -> list[str]:
    return [f.code for f in findings if f.status == "ok"]


def finding(purpose: str, code: str, status: str, severity: str, name: str, rtype: str, message: str,
            expected: list[str] | None = None, publish: list[str] | None = None,
            remove: list[str] | None = None) -> dict[str, Any]:
    return {"purpose": purpose, "code": code, "status": status, "severity": severity, "name": name, "type": rtype,
            "message": message, "expected": expected or [], "publish": publish or [], "remove": remove or []}



# --- correct domains ------------------------------------------------------------------------------------


def test_a_correct_google_domain_is_ready(nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["gmail-ok.test"])
    report = check_org(org, "google", client(nsd))
    [domain] = report.domains
    assert [(f.code, f.status, f.severity, f.message) for f in domain.findings] == [
        ("mx-ok", "ok", "ok", "MX points to Google Workspace (smtp.google.com)"),
        ("spf-ok", "ok", "ok", "SPF is valid; 3 of 10 DNS lookups"),
        ("dkim-ok", "ok", "ok", "DKIM key published (v=DKIM1, p= set)"),
        ("dmarc-ok", "ok", "ok", "DMARC policy is p=quarantine"),
        ("verification-ok", "ok", "ok", "verification token published"),
    ]
    assert [f.found for f in domain.findings] == [
        ["gmail-ok.test. 3600 IN MX 1 smtp.google.com."],
        ["v=spf1 include:_spf.google.com ~all"],
        ["v=DKIM1; k=rsa; p=" + DKIM_KEY[:62] + "..."],
        ["v=DMARC1; p=quarantine; rua=mailto:dmarc@gmail-ok.test"],
        ["google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ"],
    ]
    assert domain.to_publish() == [] and domain.to_remove() == []
    assert run_dns_check(org, "google", nsd, 1.0, 0, "json")[1] == 0


def test_a_correct_microsoft_domain_is_ready(nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, MICROSOFT, ["m365ok.test"])
    [domain] = check_org(org, "microsoft", client(nsd)).domains
    assert [(f.code, f.name, f.type, f.message) for f in domain.findings] == [
        ("mx-ok", "m365ok.test", "MX", "MX points to Microsoft 365 (m365ok-test.mail.protection.outlook.com)"),
        ("spf-ok", "m365ok.test", "TXT", "SPF is valid; 2 of 10 DNS lookups"),
        ("dkim-ok", "selector1._domainkey.m365ok.test", "CNAME",
         "selector1._domainkey.m365ok.test points to selector1-m365ok-test._domainkey.m365ok.onmicrosoft.com"),
        ("dkim-ok", "selector2._domainkey.m365ok.test", "CNAME",
         "selector2._domainkey.m365ok.test points to selector2-m365ok-test._domainkey.m365ok.onmicrosoft.com"),
        ("dmarc-ok", "_dmarc.m365ok.test", "TXT", "DMARC policy is p=reject"),
        ("verification-ok", "m365ok.test", "TXT", "verification token published"),
        ("autodiscover-ok", "autodiscover.m365ok.test", "CNAME",
         "autodiscover.m365ok.test points to autodiscover.outlook.com"),
    ]
    assert domain.ready and domain.warnings == 0


# --- broken Google domains: the exact findings and zone-file lines ----------------------------------------

DKIM_MISSING = ("; mail is not signed for this domain, so DMARC rests on SPF alone")
BROKEN_GOOGLE: dict[str, tuple[list[str], list[dict[str, Any]]]] = {
    "nomx.test": (["spf-ok", "dkim-ok", "dmarc-ok", "verification-ok"], [
        finding("mx", "mx-missing", "missing", "error", "nomx.test", "MX",
                "no MX record at nomx.test; mail to nomx.test cannot be delivered",
                expected=["1 smtp.google.com"], publish=["nomx.test. 3600 IN MX 1 smtp.google.com."]),
    ]),
    "twospf.test": (["mx-ok", "dkim-ok", "dmarc-ok", "verification-ok"], [
        finding("spf", "spf-multiple", "risky", "error", "twospf.test", "TXT",
                "twospf.test has 2 SPF records: receivers return permerror, so SPF fails for all its mail; "
                "publish one record that merges them",
                publish=['twospf.test. 3600 IN TXT "v=spf1 include:_spf.google.com ip4:192.0.2.10 ~all"'],
                remove=['twospf.test. 3600 IN TXT "v=spf1 include:_spf.google.com ~all"',
                        'twospf.test. 3600 IN TXT "v=spf1 ip4:192.0.2.10 include:_spf.google.com -all"']),
    ]),
    "deepspf.test": (["mx-ok", "dkim-ok", "dmarc-ok", "verification-ok"], [
        finding("spf", "spf-too-many-lookups", "risky", "error", "deepspf.test", "TXT",
                "SPF needs 12 DNS lookups; receivers stop at 10 and return permerror (RFC 7208 §4.6.4): remove "
                "includes you do not send through, or replace some with ip4:/ip6: ranges"),
    ]),
    "nodmarc.test": (["mx-ok", "spf-ok", "dkim-ok", "verification-ok"], [
        finding("dmarc", "dmarc-missing", "missing", "warning", "_dmarc.nodmarc.test", "TXT",
                "no DMARC record: _dmarc.nodmarc.test does not exist (NXDOMAIN); receivers get no policy for "
                "mail failing SPF and DKIM, and Gmail and Yahoo require one of bulk senders; start with p=none "
                "and read the reports",
                expected=["v=DMARC1; p=none; rua=mailto:postmaster@nodmarc.test"],
                publish=['_dmarc.nodmarc.test. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@nodmarc.test"']),
    ]),
    "baddkim.test": (["mx-ok", "spf-ok", "dmarc-ok", "verification-ok"], [
        finding("dkim", "dkim-wrong", "wrong", "error", "google._domainkey.baddkim.test", "TXT",
                "the DKIM record has an empty p=: the key is revoked, receivers fail every signature",
                expected=[GOOGLE_DKIM_PLACEHOLDER],
                publish=[f'google._domainkey.baddkim.test. 3600 IN TXT "{GOOGLE_DKIM_PLACEHOLDER}"'],
                remove=['google._domainkey.baddkim.test. 3600 IN TXT "v=DKIM1; k=rsa; p="']),
    ]),
    "mxelse.test": (["spf-ok", "dkim-ok", "dmarc-ok", "verification-ok"], [
        finding("mx", "mx-elsewhere", "risky", "error", "mxelse.test", "MX",
                "MX also points to mx.oldhost.example: senders may deliver mail for mxelse.test there instead "
                "of to Google Workspace",
                expected=["1 smtp.google.com"], remove=["mxelse.test. 3600 IN MX 10 mx.oldhost.example."]),
    ]),
    "plusall.test": (["mx-ok", "dkim-ok", "dmarc-ok", "verification-ok"], [
        finding("spf", "spf-pass-all", "risky", "error", "plusall.test", "TXT",
                "the SPF record of plusall.test ends in +all: every server on the internet may send as "
                "plusall.test",
                publish=['plusall.test. 3600 IN TXT "v=spf1 include:_spf.google.com ~all"'],
                remove=['plusall.test. 3600 IN TXT "v=spf1 include:_spf.google.com +all"']),
    ]),
    "neutral.test": (["mx-ok", "dkim-ok", "dmarc-ok", "verification-ok"], [
        finding("spf", "spf-neutral-all", "risky", "warning", "neutral.test", "TXT",
                "the SPF record of neutral.test ends in ?all (neutral): it does not tell receivers to distrust "
                "other senders; end it in ~all or -all",
                publish=['neutral.test. 3600 IN TXT "v=spf1 include:_spf.google.com ~all"'],
                remove=['neutral.test. 3600 IN TXT "v=spf1 include:_spf.google.com ?all"']),
    ]),
    "spfmisc.test": (["mx-ok", "dkim-ok", "dmarc-ok", "verification-ok"], [
        finding("spf", "spf-loop", "risky", "error", "spfmisc.test", "TXT",
                "SPF include loop: spfmisc.test -> loop.spfmisc.test -> spfmisc.test; receivers return permerror"),
        finding("spf", "spf-pass-all", "risky", "error", "spfmisc.test", "TXT",
                "include:open.spfmisc.test in the SPF of spfmisc.test ends in +all: every server on the internet "
                "passes for spfmisc.test"),
        finding("spf", "spf-include-missing", "risky", "error", "spfmisc.test", "TXT",
                "include:gone.spfmisc.test (from spfmisc.test) has no SPF record: gone.spfmisc.test does not "
                "exist (NXDOMAIN); receivers return permerror"),
    ]),
    "apex.parent.test": (["mx-ok", "spf-ok", "verification-ok"], [
        finding("apex", "apex-cname", "risky", "error", "apex.parent.test", "CNAME",
                "apex.parent.test is a CNAME to gmail-ok.test: no MX, TXT or other record can exist beside a "
                "CNAME (RFC 1034 §3.6.2), so apex.parent.test takes gmail-ok.test's mail settings; remove the "
                "CNAME and publish the records itself",
                remove=["apex.parent.test. 3600 IN CNAME gmail-ok.test."]),
        finding("dkim", "dkim-missing", "missing", "error", "google._domainkey.apex.parent.test", "TXT",
                "no DKIM key: google._domainkey.apex.parent.test does not exist (NXDOMAIN)" + DKIM_MISSING,
                expected=[GOOGLE_DKIM_PLACEHOLDER],
                publish=[f'google._domainkey.apex.parent.test. 3600 IN TXT "{GOOGLE_DKIM_PLACEHOLDER}"']),
        finding("dmarc", "dmarc-missing", "missing", "warning", "_dmarc.apex.parent.test", "TXT",
                "no DMARC record: _dmarc.apex.parent.test does not exist (NXDOMAIN); receivers get no policy for "
                "mail failing SPF and DKIM, and Gmail and Yahoo require one of bulk senders; start with p=none "
                "and read the reports",
                expected=["v=DMARC1; p=none; rua=mailto:postmaster@apex.parent.test"],
                publish=['_dmarc.apex.parent.test. 3600 IN TXT '
                         '"v=DMARC1; p=none; rua=mailto:postmaster@apex.parent.test"']),
    ]),
}


@pytest.mark.parametrize("domain", list(BROKEN_GOOGLE))
def test_broken_google_domains(nsd: str, domain: str) -> None:
    ok_codes, expected_problems = BROKEN_GOOGLE[domain]
    findings = google_findings(nsd, domain)
    assert oks(findings) == ok_codes
    assert problems(findings) == expected_problems


def test_spf_over_ten_lookups_shows_where_the_lookups_go(nsd: str) -> None:
    [too_many] = [f for f in google_findings(nsd, "deepspf.test") if f.code == "spf-too-many-lookups"]
    assert too_many.found == [
        "deepspf.test: include:_spf.google.com include:a._spf.deepspf.test",
        "_spf.google.com: include:_netblocks.google.com include:_netblocks2.google.com",
        "_netblocks.google.com: (no lookups)",
        "_netblocks2.google.com: (no lookups)",
        "a._spf.deepspf.test: a mx include:b._spf.deepspf.test",
        "b._spf.deepspf.test: a:relay1.deepspf.test a:relay2.deepspf.test include:c._spf.deepspf.test",
        "c._spf.deepspf.test: exists:x.deepspf.test mx:mx.deepspf.test",
    ]


def test_a_domain_that_does_not_exist_needs_every_record(nsd: str, tmp_path: Path) -> None:
    """NXDOMAIN is an answer (the name does not exist), not a failure: every record is missing."""
    org = make_org(tmp_path, GOOGLE, ["ghost.parent.test"])
    [domain] = check_org(org, "google", client(nsd)).domains
    assert [(f.code, f.severity, f.message.split(";")[0]) for f in domain.findings] == [
        ("mx-missing", "error", "no MX record: ghost.parent.test does not exist (NXDOMAIN)"),
        ("spf-missing", "error", "no SPF record: ghost.parent.test does not exist (NXDOMAIN)"),
        ("dkim-missing", "error", "no DKIM key: google._domainkey.ghost.parent.test does not exist (NXDOMAIN)"),
        ("dmarc-missing", "warning", "no DMARC record: _dmarc.ghost.parent.test does not exist (NXDOMAIN)"),
        ("verification-missing", "warning", "no verification token: ghost.parent.test does not exist (NXDOMAIN)"),
    ]
    assert domain.to_publish() == [
        "ghost.parent.test. 3600 IN MX 1 smtp.google.com.",
        'ghost.parent.test. 3600 IN TXT "v=spf1 include:_spf.google.com ~all"',
        f'google._domainkey.ghost.parent.test. 3600 IN TXT "{GOOGLE_DKIM_PLACEHOLDER}"',
        '_dmarc.ghost.parent.test. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@ghost.parent.test"',
        'ghost.parent.test. 3600 IN TXT "google-site-verification=<token from the Admin console>"',
    ]
    assert run_dns_check(org, "google", nsd, 1.0, 0, "text")[1] == 1


# --- Microsoft 365 half set up ------------------------------------------------------------------------


def test_microsoft_domain_half_set_up(nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, MICROSOFT, ["m365bad.test"])
    [domain] = check_org(org, "microsoft", client(nsd)).domains
    selector1_rule = ("selector1-m365bad-test._domainkey.m365ok.onmicrosoft.com, or "
                      "selector1-m365bad-test._domainkey.m365ok.<x>-v1.dkim.mail.microsoft for domains added "
                      "since May 2025 (Get-DkimSigningConfig -Identity m365bad.test shows which)")
    assert problems(domain.findings) == [
        finding("mx", "mx-wrong", "wrong", "error", "m365bad.test", "MX",
                "MX points to mail.oldhost.example, not to Microsoft 365: mail for m365bad.test does not reach it",
                expected=["0 m365bad-test.mail.protection.outlook.com"],
                publish=["m365bad.test. 3600 IN MX 0 m365bad-test.mail.protection.outlook.com."],
                remove=["m365bad.test. 3600 IN MX 10 mail.oldhost.example."]),
        finding("spf", "spf-wrong", "wrong", "error", "m365bad.test", "TXT",
                "the SPF record does not include spf.protection.outlook.com: receivers treat mail Microsoft 365 "
                "sends for m365bad.test as unauthorised",
                expected=["include:spf.protection.outlook.com"],
                publish=['m365bad.test. 3600 IN TXT '
                         '"v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all"'],
                remove=['m365bad.test. 3600 IN TXT "v=spf1 include:_spf.google.com ~all"']),
        finding("dkim", "dkim-wrong", "wrong", "error", "selector1._domainkey.m365bad.test", "CNAME",
                "selector1._domainkey.m365bad.test is CNAME selector1-other-test._domainkey.m365ok.onmicrosoft.com;"
                " it should be " + selector1_rule,
                expected=[selector1_rule],
                publish=["selector1._domainkey.m365bad.test. 3600 IN CNAME "
                         "<Selector1CNAME from Get-DkimSigningConfig -Identity m365bad.test>"],
                remove=["selector1._domainkey.m365bad.test. 3600 IN CNAME "
                        "selector1-other-test._domainkey.m365ok.onmicrosoft.com."]),
        finding("dkim", "dkim-missing", "missing", "error", "selector2._domainkey.m365bad.test", "CNAME",
                "no DKIM CNAME: selector2._domainkey.m365bad.test does not exist (NXDOMAIN)" + DKIM_MISSING,
                expected=["<Selector2CNAME from Get-DkimSigningConfig -Identity m365bad.test>"],
                publish=["selector2._domainkey.m365bad.test. 3600 IN CNAME "
                         "<Selector2CNAME from Get-DkimSigningConfig -Identity m365bad.test>"]),
        finding("dmarc", "dmarc-none", "risky", "warning", "_dmarc.m365bad.test", "TXT",
                "DMARC policy is p=none: receivers report but still deliver mail that forges the domain; move to "
                "p=quarantine, then p=reject, once the reports show only your own senders"),
        finding("verification", "verification-missing", "missing", "warning", "m365bad.test", "TXT",
                "no verification token among the TXT records of m365bad.test; the provider cannot verify that "
                "you own the domain (if it is verified already, this is only a reminder)",
                expected=["MS=ms<number from the Microsoft 365 admin center>"],
                publish=['m365bad.test. 3600 IN TXT "MS=ms<number from the Microsoft 365 admin center>"']),
        finding("autodiscover", "autodiscover-missing", "missing", "error", "autodiscover.m365bad.test", "CNAME",
                "no CNAME record: autodiscover.m365bad.test does not exist (NXDOMAIN); Outlook cannot find the "
                "mailbox settings by itself",
                expected=["autodiscover.outlook.com"],
                publish=["autodiscover.m365bad.test. 3600 IN CNAME autodiscover.outlook.com."]),
    ]


def test_exact_values_from_the_provider_win(nsd: str, tmp_path: Path) -> None:
    """What Graph says (serviceConfigurationRecords, verificationDnsRecords) replaces the documented values."""
    asked: list[str] = []

    def graph(domain: str) -> ProviderDomainRecords:
        asked.append(domain)
        return ProviderDomainRecords(records=(
            ProviderRecord("MX", "@", "m365ok-test.mail.protection.outlook.com", priority=0),
            ProviderRecord("TXT", "@", "v=spf1 include:spf.protection.outlook.com -all"),
            ProviderRecord("CNAME", "autodiscover", "autodiscover.outlook.com"),
            ProviderRecord("TXT", "@", "MS=ms87654321"),
            ProviderRecord("CNAME", "selector1._domainkey", "selector1-m365ok-test._domainkey.m365ok.onmicrosoft.com"),
            ProviderRecord("CNAME", "selector2._domainkey",
                           "selector2-m365ok-test._domainkey.m365ok.n-v1.dkim.mail.microsoft"),
        ), verified=False)

    org = make_org(tmp_path, MICROSOFT, ["m365ok.test"])
    [domain] = check_org(org, "microsoft", client(nsd), graph).domains
    assert asked == ["m365ok.test"]
    assert oks(domain.findings) == ["mx-ok", "spf-ok", "dkim-ok", "dmarc-ok", "autodiscover-ok"]
    assert problems(domain.findings) == [
        finding("dkim", "dkim-wrong", "wrong", "error", "selector2._domainkey.m365ok.test", "CNAME",
                "selector2._domainkey.m365ok.test is CNAME selector2-m365ok-test._domainkey.m365ok.onmicrosoft.com;"
                " it should be selector2-m365ok-test._domainkey.m365ok.n-v1.dkim.mail.microsoft",
                expected=["selector2-m365ok-test._domainkey.m365ok.n-v1.dkim.mail.microsoft"],
                publish=["selector2._domainkey.m365ok.test. 3600 IN CNAME "
                         "selector2-m365ok-test._domainkey.m365ok.n-v1.dkim.mail.microsoft."],
                remove=["selector2._domainkey.m365ok.test. 3600 IN CNAME "
                        "selector2-m365ok-test._domainkey.m365ok.onmicrosoft.com."]),
        # Unverified at the provider: its token is required, and the one published is another.
        finding("verification", "verification-missing", "missing", "error", "m365ok.test", "TXT",
                "no verification token among the TXT records of m365ok.test; the provider cannot verify that "
                "you own the domain (if it is verified already, this is only a reminder)",
                expected=["MS=ms87654321"], publish=['m365ok.test. 3600 IN TXT "MS=ms87654321"']),
    ]


def test_a_verified_domain_is_not_asked_for_its_token(nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["nomx.test"])
    report = check_org(org, "google", client(nsd), lambda domain: ProviderDomainRecords(verified=True))
    assert [f.code for f in report.domains[0].findings] == ["mx-missing", "spf-ok", "dkim-ok", "dmarc-ok"]


def test_google_dkim_key_from_the_provider_must_match(nsd: str) -> None:
    key = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAother"
    known = ProviderDomainRecords(records=(ProviderRecord("TXT", "google._domainkey", key),))
    expected = expected_records("gmail-ok.test", "google", from_provider=known)
    findings = check_domain("gmail-ok.test", "google", expected, client(nsd))
    [dkim] = [f for f in findings if f.purpose == "dkim"]
    assert (dkim.code, dkim.message, dkim.publish) == (
        "dkim-wrong", "the DKIM key differs from the one the provider signs with",
        ['google._domainkey.gmail-ok.test. 3600 IN TXT '
         '"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAother"'])


# --- the local provider: records declared in domains.yaml ------------------------------------------------

RELAY_DOMAINS_YAML = """
- name: relay.test
  primary: true
  records:
    - {type: MX, name: "@", value: mail.relay.test., priority: 10}
    - {type: TXT, name: "@", value: "v=spf1 mx -all"}
    - {type: A, name: mail, value: 192.0.2.25}
"""


def test_records_declared_in_domains_yaml(nsd: str) -> None:
    [entry] = yaml.safe_load(RELAY_DOMAINS_YAML)
    declared = declared_records(SimpleNamespace(**entry))
    assert declared == [RequiredRecord(type="MX", name="@", value="mail.relay.test.", priority=10),
                        RequiredRecord(type="TXT", value="v=spf1 mx -all"),
                        RequiredRecord(type="A", name="mail", value="192.0.2.25")]
    expected = expected_records("relay.test", "local", declared=declared)
    findings = check_domain("relay.test", "local", expected, client(nsd))
    assert oks(findings) == ["mx-ok", "dmarc-ok"]
    assert [f.message for f in findings if f.status == "ok"] == [
        "MX points to the hosts domains.yaml declares (mail.relay.test)", "DMARC policy is p=reject"]
    assert problems(findings) == [
        finding("spf", "spf-wrong", "wrong", "error", "relay.test", "TXT",
                "the SPF record differs from the one domains.yaml declares", expected=["v=spf1 mx -all"],
                publish=['relay.test. 3600 IN TXT "v=spf1 mx -all"'],
                remove=['relay.test. 3600 IN TXT "v=spf1 mx ~all"']),
        finding("record", "record-wrong", "wrong", "error", "mail.relay.test", "A",
                "mail.relay.test is A 192.0.2.26; it should be 192.0.2.25", expected=["192.0.2.25"],
                publish=["mail.relay.test. 3600 IN A 192.0.2.25"]),
    ]


def test_local_provider_without_declared_records_judges_what_is_published(nsd: str) -> None:
    findings = check_domain("relay.test", "local", expected_records("relay.test", "local"), client(nsd))
    assert [(f.code, f.message) for f in findings] == [
        ("spf-ok", "SPF is valid; 1 of 10 DNS lookups"), ("dmarc-ok", "DMARC policy is p=reject")]



# --- lookups that fail are told apart from records that are missing -------------------------------------


def test_a_nameserver_that_never_answers(silent: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["gmail-ok.test"])
    started = time.monotonic()
    report = check_org(org, "google", client(silent, timeout=0.2, retries=1))
    elapsed = time.monotonic() - started
    first = f"no answer from {silent} for gmail-ok.test after 2 tries of 0.2 s"
    again = "within 0.2 s (it did not answer earlier queries either)"
    assert [(f.code, f.status, f.severity, f.message) for f in report.domains[0].findings] == [
        ("mx-failed", "failed", "error", f"could not read MX at gmail-ok.test: {first}"),
        ("spf-failed", "failed", "error", f"could not read TXT at gmail-ok.test: no answer from {silent} "
         f"for gmail-ok.test {again}"),
        ("dkim-failed", "failed", "error", "could not read TXT at google._domainkey.gmail-ok.test: no answer "
         f"from {silent} for google._domainkey.gmail-ok.test {again}"),
        ("dmarc-failed", "failed", "warning", f"could not read TXT at _dmarc.gmail-ok.test: no answer from "
         f"{silent} for _dmarc.gmail-ok.test {again}"),
        ("verification-failed", "failed", "warning", f"could not read TXT at gmail-ok.test: no answer from "
         f"{silent} for gmail-ok.test {again}"),
    ]
    assert report.exit_code == 1
    # 2 tries for the first lookup, then one each for the CNAME, apex TXT, DKIM and DMARC lookups.
    assert 1.2 <= elapsed < 3


def test_a_nameserver_that_answers_servfail(servfail: ServfailServer, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["gmail-ok.test"])
    out, code = run_dns_check(org, "google", servfail.address, 1.0, 1, "json")
    findings = json.loads(out)["domains"][0]["findings"]
    assert [(f["code"], f["status"], f["severity"], f["message"]) for f in findings] == [
        (f"{purpose}-failed", "failed", severity,
         f"could not read {rtype} at {name}: {servfail.address} answered SERVFAIL: it could not resolve {name} "
         "(often a broken DNSSEC chain or unreachable authoritative servers)")
        for purpose, severity, rtype, name in [
            ("mx", "error", "MX", "gmail-ok.test"),
            ("spf", "error", "TXT", "gmail-ok.test"),
            ("dkim", "error", "TXT", "google._domainkey.gmail-ok.test"),
            ("dmarc", "warning", "TXT", "_dmarc.gmail-ok.test"),
            ("verification", "warning", "TXT", "gmail-ok.test"),
        ]
    ]
    assert code == 1
    # SERVFAIL may pass: each lookup is tried retries+1 times; answers are remembered within a run.
    assert servfail.queries == [
        "gmail-ok.test. MX", "gmail-ok.test. MX", "gmail-ok.test. CNAME", "gmail-ok.test. CNAME",
        "gmail-ok.test. TXT", "gmail-ok.test. TXT", "google._domainkey.gmail-ok.test. TXT",
        "google._domainkey.gmail-ok.test. TXT", "_dmarc.gmail-ok.test. TXT", "_dmarc.gmail-ok.test. TXT",
    ]


def test_an_authoritative_server_refuses_a_zone_it_does_not_serve(nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["elsewhere.example"])
    [domain] = check_org(org, "google", client(nsd, retries=2)).domains
    [mx] = [f for f in domain.findings if f.purpose == "mx"]
    assert (mx.status, mx.message) == ("failed", f"could not read MX at elsewhere.example: {nsd} REFUSED the "
                                       "query for elsewhere.example: it neither serves that zone nor resolves for us")
    assert {f.status for f in domain.findings} == {"failed"}


def test_the_next_nameserver_answers_when_the_first_is_silent(silent: str, nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["gmail-ok.test"])
    started = time.monotonic()
    report = check_org(org, "google", client(silent, nsd, timeout=0.2, retries=0))
    assert time.monotonic() - started < 1.0  # the silent one is asked once, then only after the others
    assert report.exit_code == 0
    assert report.nameservers == [silent, nsd]
    assert [f.status for f in report.domains[0].findings] == ["ok"] * 5


# --- outputs ------------------------------------------------------------------------------------------------


def test_text_output(nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["nodmarc.test"])
    out, code = run_dns_check(org, "google", nsd, 1.0, 0, "text")
    assert code == 0  # a missing DMARC record is a warning
    rule = "─" * 120
    assert out.splitlines() == [
        f"DNS checked through {nsd}",
        "",
        "nodmarc.test (Google Workspace): 1 warning",
        "status    check          record                               finding" + " " * 51,
        rule,
        "ok        MX             nodmarc.test MX                      MX points to Google Workspace "
        "(smtp.google.com)" + " " * 11,
        "ok        SPF            nodmarc.test TXT                     SPF is valid; 3 of 10 DNS lookups" + " " * 25,
        "ok        DKIM           google._domainkey.nodmarc.test TXT   DKIM key published (v=DKIM1, p= set)"
        + " " * 22,
        "missing   DMARC          _dmarc.nodmarc.test TXT              no DMARC record: _dmarc.nodmarc.test does "
        "not exist       ",
        "                                                              (NXDOMAIN); receivers get no policy for "
        "mail failing SPF  ",
        "                                                              and DKIM, and Gmail and Yahoo require one "
        "of bulk senders;",
        "                                                              start with p=none and read the reports"
        + " " * 20,
        "ok        verification   nodmarc.test TXT                     verification token published" + " " * 30,
        "Publish these records:",
        '  _dmarc.nodmarc.test. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@nodmarc.test"',
        "",
        "1 of 1 domain ready: 1 warning.",
    ]


def test_markdown_output(nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["nodmarc.test", "baddkim.test"])
    out, code = run_dns_check(org, "google", nsd, 1.0, 0, "markdown")
    assert code == 1
    placeholder_cell = ("v=DKIM1; k=rsa; p=&lt;public key from the Admin console: Apps &gt; Google Workspace &gt; "
                        "Gmail &gt; Authenticate email&gt;")
    assert out.splitlines() == [
        "### DNS: 1 of 2 domains ready: 1 error, 1 warning.",
        "",
        "#### ⚠️ nodmarc.test (Google Workspace): 1 warning",
        "",
        "| | check | record | finding |",
        "|---|---|---|---|",
        "| ✅ ok | MX | nodmarc.test MX | MX points to Google Workspace (smtp.google.com) |",
        "| ✅ ok | SPF | nodmarc.test TXT | SPF is valid; 3 of 10 DNS lookups |",
        "| ✅ ok | DKIM | google.\\_domainkey.nodmarc.test TXT | DKIM key published (v=DKIM1, p= set) |",
        "| ⚠️ missing | DMARC | \\_dmarc.nodmarc.test TXT | no DMARC record: \\_dmarc.nodmarc.test does not exist "
        "(NXDOMAIN); receivers get no policy for mail failing SPF and DKIM, and Gmail and Yahoo require one of "
        "bulk senders; start with p=none and read the reports |",
        "| ✅ ok | verification | nodmarc.test TXT | verification token published |",
        "",
        "**Publish these records:**",
        "",
        "```text",
        '_dmarc.nodmarc.test. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@nodmarc.test"',
        "```",
        "",
        "#### ❌ baddkim.test (Google Workspace): 1 error",
        "",
        "| | check | record | finding |",
        "|---|---|---|---|",
        "| ✅ ok | MX | baddkim.test MX | MX points to Google Workspace (smtp.google.com) |",
        "| ✅ ok | SPF | baddkim.test TXT | SPF is valid; 3 of 10 DNS lookups |",
        "| ❌ wrong | DKIM | google.\\_domainkey.baddkim.test TXT | the DKIM record has an empty p=: the key is "
        "revoked, receivers fail every signature<br>found: v=DKIM1; k=rsa; p=<br>expected: " + placeholder_cell + " |",
        "| ✅ ok | DMARC | \\_dmarc.baddkim.test TXT | DMARC policy is p=reject |",
        "| ✅ ok | verification | baddkim.test TXT | verification token published |",
        "",
        "**Publish these records:**",
        "",
        "```text",
        f'google._domainkey.baddkim.test. 3600 IN TXT "{GOOGLE_DKIM_PLACEHOLDER}"',
        "```",
        "",
        "**Remove these records:**",
        "",
        "```text",
        'google._domainkey.baddkim.test. 3600 IN TXT "v=DKIM1; k=rsa; p="',
        "```",
    ]
    assert out.endswith("```\n")


def test_markdown_fences_hold_records_with_backticks(nsd: str) -> None:
    findings = check_domain("relay.test", "local", expected_records(
        "relay.test", "local", declared=[RequiredRecord(type="TXT", name="note", value="say ```hi``` `x`")]),
        client(nsd))
    out = render_dns_markdown(DnsReport(provider="local", nameservers=[nsd], domains=[
        DomainReport(domain="relay.test", provider="local", findings=findings)]))
    assert '````text\nnote.relay.test. 3600 IN TXT "say ```hi``` `x`"\n````' in out
    assert "| ❌ missing | record | note.relay.test TXT | no TXT record say \\`\\`\\`hi\\`\\`\\` \\`x\\`: " \
           "note.relay.test does not exist (NXDOMAIN) |" in out


def test_json_output(nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["baddkim.test"])
    out, code = run_dns_check(org, "google", nsd, 1.0, 0, "json")
    assert code == 1

    def ok(purpose: str, name: str, rtype: str, message: str, found: str) -> dict[str, Any]:
        return {"purpose": purpose, "code": f"{purpose}-ok", "status": "ok", "severity": "ok", "name": name,
                "type": rtype, "message": message, "found": [found], "expected": [], "publish": [], "remove": []}

    dkim_publish = f'google._domainkey.baddkim.test. 3600 IN TXT "{GOOGLE_DKIM_PLACEHOLDER}"'
    dkim_remove = 'google._domainkey.baddkim.test. 3600 IN TXT "v=DKIM1; k=rsa; p="'
    assert json.loads(out) == {
        "format_version": 1,
        "provider": "google",
        "nameservers": [nsd],
        "domains": [{
            "domain": "baddkim.test",
            "provider": "google",
            "findings": [
                ok("mx", "baddkim.test", "MX", "MX points to Google Workspace (smtp.google.com)",
                   "baddkim.test. 3600 IN MX 1 smtp.google.com."),
                ok("spf", "baddkim.test", "TXT", "SPF is valid; 3 of 10 DNS lookups",
                   "v=spf1 include:_spf.google.com ~all"),
                {"purpose": "dkim", "code": "dkim-wrong", "status": "wrong", "severity": "error",
                 "name": "google._domainkey.baddkim.test", "type": "TXT",
                 "message": "the DKIM record has an empty p=: the key is revoked, receivers fail every signature",
                 "found": ["v=DKIM1; k=rsa; p="], "expected": [GOOGLE_DKIM_PLACEHOLDER],
                 "publish": [dkim_publish], "remove": [dkim_remove]},
                ok("dmarc", "_dmarc.baddkim.test", "TXT", "DMARC policy is p=reject", "v=DMARC1; p=reject"),
                ok("verification", "baddkim.test", "TXT", "verification token published",
                   "google-site-verification=JjF6G2awkkpvJ78iaSMyvD8UxPeoqXwnsu2ReMG0uFk"),
            ],
            "ready": False,
            "errors": 1,
            "warnings": 0,
            "publish": [dkim_publish],
            "remove": [dkim_remove],
        }],
        "notes": [],
        "summary": {"domains": 1, "ready": 0, "errors": 1, "warnings": 0},
    }


def test_plan_warnings(nsd: str, tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["gmail-ok.test", "nodmarc.test", "mxelse.test"])
    assert dns_warnings(org, "google", nsd, 1.0, 0) == [
        PlanWarning(code="dns-dmarc-missing", severity="low", subject="nodmarc.test", message=(
            "DNS nodmarc.test: no DMARC record: _dmarc.nodmarc.test does not exist (NXDOMAIN); receivers get no "
            "policy for mail failing SPF and DKIM, and Gmail and Yahoo require one of bulk senders; start with "
            "p=none and read the reports"),
            action='publish: _dmarc.nodmarc.test. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@nodmarc.test"'),
        PlanWarning(code="dns-mx-elsewhere", severity="medium", subject="mxelse.test", message=(
            "DNS mxelse.test: MX also points to mx.oldhost.example: senders may deliver mail for mxelse.test "
            "there instead of to Google Workspace"), action="remove: mxelse.test. 3600 IN MX 10 mx.oldhost.example."),
    ]


def test_plan_warnings_never_fail_the_plan(tmp_path: Path) -> None:
    org = make_org(tmp_path, GOOGLE, ["gmail-ok.test"])
    assert dns_warnings(org, "google", "127.0.0.1:99999") == [PlanWarning(
        code="dns-not-checked", severity="medium",
        message="DNS not checked: --nameserver '127.0.0.1:99999': the port must be a number from 1 to 65535")]


def test_unknown_format_is_a_user_error() -> None:
    # A report made without asking anyone: the format is refused before anything is drawn (the
    # CLI's --format is a choice, refused before any query; this is the renderer's own guard).
    report = DnsReport(provider="google", nameservers=["127.0.0.1:53"])
    with pytest.raises(UserError, match="unknown format 'yaml'; use text, markdown or json"):
        render_dns(report, "yaml")


# --- pieces -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1", Nameserver("127.0.0.1", 53)),
    ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
    (" 192.0.2.1:53 ", Nameserver("192.0.2.1", 53)),
    ("::1", Nameserver("::1", 53)),
    ("[::1]:5353", Nameserver("::1", 5353)),
    ("[2001:db8::1]", Nameserver("2001:db8::1", 53)),
    ("localhost:5353", Nameserver("127.0.0.1", 5353)),
])
def test_parse_nameserver(text: str, expected: Nameserver) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("127.0.0.1:0", "--nameserver '127.0.0.1:0': the port must be a number from 1 to 65535"),
    ("127.0.0.1:dns", "--nameserver '127.0.0.1:dns': the port must be a number from 1 to 65535"),
    ("[::1", "--nameserver '[::1': write an IPv6 address with a port as [::1]:5353"),
    (":53", "--nameserver ':53': give a host, like 127.0.0.1 or 127.0.0.1:5353"),
    ("no-such-host.invalid", "--nameserver 'no-such-host.invalid': cannot resolve 'no-such-host.invalid'"),
])
def test_parse_nameserver_errors(text: str, message: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_nameserver(text)
    assert str(raised.value).startswith(message)


def test_documented_microsoft_records_as_zone_lines() -> None:
    expected = expected_records("contoso.com", "microsoft", tenant="contoso.onmicrosoft.com")
    assert [zone_line(e.name, e.type, e.shown, e.priority) for e in expected] == [
        "contoso.com. 3600 IN MX 0 contoso-com.mail.protection.outlook.com.",
        'contoso.com. 3600 IN TXT "v=spf1 include:spf.protection.outlook.com -all"',
        "selector1._domainkey.contoso.com. 3600 IN CNAME <Selector1CNAME from Get-DkimSigningConfig "
        "-Identity contoso.com>",
        "selector2._domainkey.contoso.com. 3600 IN CNAME <Selector2CNAME from Get-DkimSigningConfig "
        "-Identity contoso.com>",
        '_dmarc.contoso.com. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@contoso.com"',
        'contoso.com. 3600 IN TXT "MS=ms<number from the Microsoft 365 admin center>"',
        "autodiscover.contoso.com. 3600 IN CNAME autodiscover.outlook.com.",
    ]
    dkim = expected[2]
    assert dkim.accepts("selector1-contoso-com._domainkey.contoso.onmicrosoft.com")
    assert dkim.accepts("selector1-contoso-com._domainkey.contoso.r-v1.dkim.mail.microsoft")
    assert not dkim.accepts("selector1-contoso-com._domainkey.fabrikam.onmicrosoft.com")
    assert not dkim.accepts("selector2-contoso-com._domainkey.contoso.onmicrosoft.com")
    mx = expected[0]
    assert mx.accepts("contoso-com.mail.protection.outlook.com")
    assert mx.accepts("contoso-com.o-v1.mx.microsoft")  # a domain with DNSSEC-enabled inbound mail
    assert not mx.accepts("fabrikam-com.mail.protection.outlook.com")


def test_google_accepts_its_older_mx_set() -> None:
    [mx] = [e for e in expected_records("acme.com", "google") if e.purpose == "mx"]
    hosts = ["aspmx.l.google.com", "alt1.aspmx.l.google.com", "alt4.aspmx.l.google.com", "aspmx2.googlemail.com"]
    assert [mx.accepts(h) for h in hosts] == [True, True, True, True]
    assert [mx.accepts(h) for h in ("alt5.aspmx.l.google.com", "mx.google.com.evil.example")] == [False, False]


def test_long_txt_is_split_into_255_character_strings() -> None:
    value = "v=DKIM1; k=rsa; p=" + DKIM_KEY
    line = zone_line("google._domainkey.acme.com", "TXT", value)
    assert line == (f'google._domainkey.acme.com. 3600 IN TXT "{value[:255]}" "{value[255:]}"')
    assert zone_line("acme.com", "TXT", 'say "hi" \\o/') == 'acme.com. 3600 IN TXT "say \\"hi\\" \\\\o/"'


def test_spf_parsing_and_fixing() -> None:
    terms, errors = parse_spf("v=spf1 +a mx/24 -ip4:192.0.2.0/24 ip6:2001:db8::/32 ~include:x.example "
                              "redirect=y.example exp=why.example ip4:300.1.1.1 include foo ?all")
    assert [(t.qualifier, t.name, t.argument, t.modifier) for t in terms] == [
        ("+", "a", None, False), ("+", "mx", None, False), ("-", "ip4", "192.0.2.0/24", False),
        ("+", "ip6", "2001:db8::/32", False), ("~", "include", "x.example", False),
        ("+", "redirect", "y.example", True), ("+", "exp", "why.example", True),
        ("+", "ip4", "300.1.1.1", False), ("+", "include", None, False), ("?", "all", None, False),
    ]
    assert errors == ["'ip4:300.1.1.1' is not a valid ip4 network", "'include' needs a domain (include:example.com)",
                      "unknown term 'foo'"]
    assert with_include("v=spf1 mx ~all", "_spf.google.com") == "v=spf1 mx include:_spf.google.com ~all"
    assert with_include("v=spf1 mx redirect=x.example", "a.example") == "v=spf1 mx include:a.example redirect=x.example"
    assert with_include("v=spf1 mx", "a.example") == "v=spf1 mx include:a.example"
    assert merge_spf(["v=spf1 mx -all", "v=spf1 mx include:a.example ?all"], "~all") == \
        "v=spf1 mx include:a.example -all"
    assert merge_spf(["v=spf1 ip4:192.0.2.1 +all"], "~all") == "v=spf1 ip4:192.0.2.1 ~all"


@pytest.mark.parametrize(("record", "message"), [
    ({"type": "MX", "value": "mail.acme.com"}, "an MX record needs a priority (like 10)"),
    ({"type": "TXT", "value": "x", "priority": 5}, "priority is for MX records only, not TXT"),
    ({"type": "CNAME", "name": "@", "value": "x.example"},
     "a CNAME cannot be at the domain itself: no MX or TXT record could live beside it"),
    ({"type": "A", "name": "mail", "value": "2001:db8::1"}, "'2001:db8::1' is an IPv6 address; use type AAAA"),
    ({"type": "AAAA", "name": "mail", "value": "mail"}, "'mail' is not an IP address"),
    ({"type": "MX", "value": "not a host", "priority": 1}, "'not a host' is not a host name (like mail.acme.com)"),
    ({"type": "TXT", "name": "bad name!", "value": "x"}, "'bad name!' is not a name relative to the domain"),
    ({"type": "TXT", "value": "天"}, "TXT values may hold only printable ASCII characters"),
])
def test_declared_records_are_validated(record: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        RequiredRecord.model_validate(record)
    assert message in str(raised.value)


def test_declared_records_with_errors_name_the_domain() -> None:
    entry = SimpleNamespace(name="relay.test", records=[{"type": "MX", "value": "mail.relay.test"}])
    with pytest.raises(UserError) as raised:
        declared_records(entry)
    assert str(raised.value) == "domains.yaml: records of relay.test: record 1: an MX record needs a priority (like 10)"
    assert declared_records(SimpleNamespace(name="plain.test")) == []


def test_the_cli_checks_dns_and_plan_carries_findings(nsd: str, tmp_path: Path) -> None:
    """`reconciler dns` and `plan --dns` in a subprocess: exit codes, JSON on stdout, warnings."""
    import json
    import sys

    make_org(tmp_path, GOOGLE, ["gmail-ok.test", "nomx.test"])
    exe = str(Path(sys.executable).parent / "reconciler")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)

    checked = run("dns", "--nameserver", nsd, "--format", "json", "--timeout", "1", "--retries", "0")
    assert checked.returncode == 1, checked.stderr  # nomx.test has no MX
    report = json.loads(checked.stdout)
    assert "Traceback" not in checked.stderr
    assert json.dumps(report).count("nomx.test") > 0
    ok_only = make_org(tmp_path / "ok", GOOGLE, ["gmail-ok.test"])
    assert ok_only.primary_domain == "gmail-ok.test"
    fine = subprocess.run([exe, "--org", str(tmp_path / "ok" / "org"), "dns", "--nameserver", nsd],
                          capture_output=True, text=True, timeout=120, check=False)
    assert fine.returncode == 0, fine.stdout + fine.stderr
    # plan --dns on the local provider: DNS findings are warnings, and never fail the plan.
    local = make_org(tmp_path / "local", {"kind": "local", "path": str(tmp_path / "dir.json")}, ["nodmarc.test"])
    assert local.primary_domain == "nodmarc.test"
    planned = subprocess.run([exe, "--org", str(tmp_path / "local" / "org"), "plan", "--dns", "--nameserver", nsd,
                              "--format", "json"], capture_output=True, text=True, timeout=120, check=False)
    assert planned.returncode == 0, planned.stderr
    codes = {w["code"] for w in json.loads(planned.stdout)["warnings"]}
    assert any(code.startswith("dns-") for code in codes), codes


def test_plan_dns_and_reconciler_dns_both_ask_microsoft_graph(nsd: str, tmp_path: Path) -> None:
    """For a Microsoft 365 tenant, `plan --dns` judges DNS as `reconciler dns` does: both ask Graph
    for the exact records. Here the domain is not yet verified at Microsoft, so Graph's
    verification token becomes required, and the one the zone publishes is another one."""
    import json
    import sys

    from reconciler.providers.microsoft.client import ENDPOINT_ENV
    from tests.emulators.graph import GraphEmulator

    make_org(tmp_path, MICROSOFT, ["m365ok.test"])
    exe = str(Path(sys.executable).parent / "reconciler")
    with GraphEmulator(domains=("m365ok.test",)) as graph:
        graph.store.domains["m365ok.test"]["isVerified"] = False
        env = {**os.environ, ENDPOINT_ENV: graph.url, "NO_COLOR": "1"}

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            graph.reset_stats()
            result = subprocess.run([exe, *args, "--nameserver", nsd], cwd=tmp_path, env=env, capture_output=True,
                                    text=True, timeout=120, check=False)
            assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
            return result

        def asked() -> list[str]:
            return sorted(path for _, path in graph.calls() if path.startswith("/domains/m365ok.test"))

        checked = run("dns", "--format", "json", "--timeout", "1", "--retries", "0")
        dns_asked = asked()
        planned = run("plan", "--dns", "--format", "json")
        plan_asked = asked()
    assert checked.returncode == 1 and planned.returncode == 0, checked.stderr + planned.stderr
    assert dns_asked == plan_asked == ["/domains/m365ok.test", "/domains/m365ok.test/serviceConfigurationRecords",
                                       "/domains/m365ok.test/verificationDnsRecords"]
    [domain] = json.loads(checked.stdout)["domains"]
    found = sorted((f"dns-{f['code']}", f"DNS m365ok.test: {f['message']}") for f in domain["findings"]
                   if f["severity"] != "ok")
    warned = sorted((w["code"], w["message"]) for w in json.loads(planned.stdout)["warnings"]
                    if w["code"].startswith("dns-"))
    assert found == warned
    # Only Graph knows these: the Teams records (optional: warnings only; the zone has one of the two SRV),
    # and that the token is required (the one error).
    assert [code for code, _ in warned] == ["dns-record-missing"] * 3 + ["dns-verification-missing"]
    assert [(f["code"], f["severity"]) for f in domain["findings"] if f["severity"] != "ok"] == [
        ("verification-missing", "error")] + [("record-missing", "warning")] * 3
    srv = [f for f in domain["findings"] if f["type"] == "SRV"]
    assert [(f["name"], f["status"]) for f in srv] == [("_sip._tls.m365ok.test", "ok"),
                                                      ("_sipfederationtls._tcp.m365ok.test", "missing")]
    assert srv[1]["publish"] == ["_sipfederationtls._tcp.m365ok.test. 3600 IN SRV 100 1 5061 sipfed.online.lync.com."]
    assert srv[1]["message"].endswith("; only Teams needs it, not mail")


def test_without_graph_credentials_the_documented_records_are_checked(nsd: str, tmp_path: Path) -> None:
    """No Graph credentials: `reconciler dns` still runs on the documented Microsoft 365 records and
    says which tenant-specific values it could not compare; `plan --dns` says it as a warning."""
    import sys

    make_org(tmp_path, MICROSOFT, ["m365ok.test"])
    exe = str(Path(sys.executable).parent / "reconciler")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ACTIONS_ID_TOKEN", "RECONCILER_"))}
    result = subprocess.run([exe, "dns", "--nameserver", nsd, "--timeout", "1", "--retries", "0"], cwd=tmp_path,
                            env={**env, "NO_COLOR": "1", "COLUMNS": "200"}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stderr == ""
    note = ("Not checked: Microsoft 365 was not asked for the records of these domains (no Microsoft credentials: "
            "set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or run in GitHub Actions with id-token: write "
            "and a federated credential); they were checked against the records Microsoft 365 documents, and the "
            "tenant's own values (DKIM targets, the verification token, records of services other than mail) were "
            "not compared")
    assert note in " ".join(result.stdout.split())
    assert "1 of 1 domain ready." in result.stdout
    warnings = dns_warnings(make_org(tmp_path, MICROSOFT, ["m365ok.test"]), "microsoft", nsd, 1.0, 0,
                            records_from_provider=_refusing)
    assert [(w.code, w.severity) for w in warnings] == [("dns-provider-records-unread", "low")]


def _refusing(domain: str) -> ProviderDomainRecords:
    from reconciler.errors import ProviderError

    raise ProviderError("403 Authorization_RequestDenied: Insufficient privileges to complete the operation.")


def test_exmail_expects_tencents_two_mx_hosts_and_spf_include() -> None:
    expected = expected_records("acme.com", "exmail")
    mx = [(e.priority, e.shown) for e in expected if e.purpose == "mx"]
    assert mx == [(5, "mxbiz1.qq.com"), (10, "mxbiz2.qq.com")]
    assert all(e.accepts("mx.exmail.qq.com") for e in expected if e.purpose == "mx")  # the old single host
    assert not any(e.accepts("mxbiz1.qq.com.evil.example") for e in expected if e.purpose == "mx")
    [spf] = [e for e in expected if e.purpose == "spf"]
    assert spf.value == "v=spf1 include:spf.mail.qq.com ~all"


def test_alimail_expects_alibabas_three_mx_hosts_and_spf_include() -> None:
    expected = expected_records("acme.com", "alimail")
    mx = [(e.priority, e.shown) for e in expected if e.purpose == "mx"]
    assert mx == [(5, "mx1.qiye.aliyun.com"), (10, "mx2.qiye.aliyun.com"), (15, "mx3.qiye.aliyun.com")]
    assert all(e.accepts("mxw.mxhichina.com") for e in expected if e.purpose == "mx")  # the older pair
    assert not any(e.accepts("mx1.qiye.aliyun.com.evil.example") for e in expected if e.purpose == "mx")
    [spf] = [e for e in expected if e.purpose == "spf"]
    assert spf.value == "v=spf1 include:spf.qiye.aliyun.com -all"
