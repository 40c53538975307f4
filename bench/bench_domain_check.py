"""A full `domain check` against checkdmarc's checks of the same zone, in the same run.

Target (issue 5): a full check of a domain whose SPF tree has 10 includes, served by the local
DNS server with 20 ms added to every answer, completes in under 0.5 s, and at least 3 times
faster than checkdmarc (bench/peer_checkdmarc.py, in .venv-peers).

The zone, `bench.test`, is modelled on a real company domain using a mail suite, an office
suite, a newsletter ESP, a CRM and a help desk:
- SPF: ip4/ip6 ranges of its own and 5 includes, two of which include 3 and 2 more (nested
  like Google's `_netblocks` records): 10 includes, 10 DNS-querying terms, the RFC 7208 limit,
  3 records deep. The TLD zone `test.` answers NXDOMAIN for names nobody delegated.
- DMARC p=reject with rua/ruf to its own domain and rua to a report service that authorises it
  (RFC 7489 §7.1); DKIM keys at `google`, `selector1` (RSA 2048) and `s2024` (Ed25519), the
  last named with --selector; MX to two hosts with A/AAAA and forward-confirmed PTRs; NS;
  MTA-STS and TLS-RPT records; BIMI with a logo (l=) and a mark certificate (a=).
- HTTPS: the MTA-STS policy, the SVG logo and the VMC are served by the rig's HTTPS server
  (tests/rig/https_server.py) with a test-CA certificate, so both tools fetch and check them.
  The VMC is issued by the test mark CA of tests/unit/domain_checks/test_bimi_vmc.py; Todoke
  trusts that root (`bimi_trust_roots`), checkdmarc only its bundled roots, so it reports the
  certificate untrusted after the same fetch and parse.

What each side does per run, cold (a new DnsCache in Todoke; every checkdmarc cache cleared):
- Todoke: `check_domain()` with a resolver from `make_resolver([server.nameserver])`, all seven
  sections: SPF tree, DKIM (the user's selector plus 20 common ones), DMARC (with the external
  destination check), BIMI (record, DMARC enforcement, logo, VMC), MTA-STS (record, policy, MX
  coverage), TLS-RPT, MX (hosts' addresses, and forward-confirmed reverse DNS of the sending IPs,
  set to the MX addresses, which is what checkdmarc does for every MX host).
- checkdmarc "sections": the calls of `check_domains()` that match those sections, same order
  (MTA-STS, MX, SPF, DMARC, TLS-RPT, BIMI); it has no DKIM check, and its MX check adds DNSSEC,
  CNAME and TLSA lookups per host. checkdmarc "full": `check_domains()` as shipped, which adds
  DNSSEC, SOA and NS. The ratio target is judged on "sections", the like-for-like figure.
Both sides run one untimed warm-up (imports, schema compilation), then RUNS timed runs. Todoke
shares its process with the DNS and HTTPS servers (their threads take the GIL); checkdmarc runs
in a process of its own. `dns_queries_received` counts what the server received per run (TCP
retries included); Todoke's `dns_questions` the distinct (name, type) its DnsCache asked.
checkdmarc is pointed at the rig's port without patching DNS (it accepts dnspython Nameserver
objects); only its HTTPS connections are routed, see bench/peer_checkdmarc.py.

A profile follows: when each Todoke section finished inside one full run, and each section
alone, to show which waits on what.
"""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import dns.reversename
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from bench.common import write_result
from tests.rig.dns_server import LocalDNSServer
from tests.rig.https_server import LocalHTTPSServer, Route
from tests.rig.tls import CertificateAuthority
from tests.unit.domain_checks.test_bimi_vmc import MarkIssuer, logotype_extension
from todoke.core.dns import make_resolver
from todoke.domains.checks import (
    SECTIONS,
    CheckOptions,
    DomainCheck,
    HttpsOptions,
    check_domain,
    runner,
)
from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.findings import Finding

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
LOGO = ROOT.parent / "shared" / "testdata" / "bimi" / "samples" / "valid-FM-good.svg"
DOMAIN = "bench.test"
LATENCY = 0.020
RUNS = 7
TARGET_SECONDS = 0.5
TARGET_RATIO = 3.0
HTTPS_NAMES = ("mta-sts.bench.test", "bimi.bench.test")
MX_ADDRESSES = {"mx1": ("192.0.2.25", "2001:db8::25"), "mx2": ("192.0.2.26",)}
POLICY = b"version: STSv1\r\nmode: enforce\r\nmx: mx1.bench.test\r\nmx: mx2.bench.test\r\n"
POLICY += b"max_age: 1209600\r\n"


def _soa(origin: str) -> str:
    return f"$ORIGIN {origin}.\n@ 3600 IN SOA ns1 hostmaster 2026112301 3600 600 86400 300\n"


def _ranges(version: int, first: int, count: int) -> str:
    if version == 4:
        return " ".join(f"ip4:100.{64 + first + n}.{n * 16}.0/20" for n in range(count))
    return " ".join(f"ip6:2001:db8:{first + n:x}00::/40" for n in range(count))


def _txt(name: str, text: str) -> str:
    return f'{name} IN TXT "{text}"\n'


def spf_zones() -> list[str]:
    """The SPF tree's other organisations: 5 records included from bench.test, 5 below them."""
    suite = _soa("mail-suite.test")
    suite += _txt(
        "_spf",
        "v=spf1 include:_netblocks.mail-suite.test include:_netblocks2.mail-suite.test "
        "include:_netblocks3.mail-suite.test ~all",
    )
    suite += _txt("_netblocks", f"v=spf1 {_ranges(4, 0, 12)} ~all")
    suite += _txt("_netblocks2", f"v=spf1 {_ranges(6, 1, 10)} ~all")
    suite += _txt("_netblocks3", f"v=spf1 {_ranges(4, 12, 8)} ~all")
    office = _soa("office.test")
    office += _txt("spf.protection", f"v=spf1 {_ranges(4, 20, 8)} {_ranges(6, 16, 4)} -all")
    mailer = _soa("mailer.test") + _txt("servers", f"v=spf1 {_ranges(4, 28, 10)} ~all")
    crm = _soa("crm-cloud.test")
    crm += _txt("_spf", "v=spf1 include:_spf-a.crm-cloud.test include:_spf-b.crm-cloud.test ~all")
    crm += _txt("_spf-a", f"v=spf1 {_ranges(4, 38, 6)} ~all")
    crm += _txt("_spf-b", f"v=spf1 {_ranges(4, 44, 6)} {_ranges(6, 32, 2)} ~all")
    helpdesk = _soa("helpdesk.test") + _txt("mail", f"v=spf1 {_ranges(4, 50, 4)} ~all")
    reports = _soa("dmarc-service.test")
    reports += _txt("bench.test._report._dmarc", "v=DMARC1")
    reports += "@ IN MX 10 mx.dmarc-service.test.\nmx IN A 198.51.100.40\n"
    # The TLD answers NXDOMAIN for names it does not delegate (DMARC's tree walk asks them).
    tld = _soa("test")
    return [tld, suite, office, mailer, crm, helpdesk, reports]


def _dkim_keys() -> dict[str, str]:
    def rsa_key() -> str:
        public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"

    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    return {
        "google": rsa_key(),
        "selector1": rsa_key(),
        "s2024": f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}",
    }


def domain_zones() -> list[str]:
    zone = _soa(DOMAIN) + "@ IN NS ns1\n@ IN NS ns2\nns1 IN A 198.51.100.53\n"
    zone += "ns2 IN A 203.0.113.53\n@ IN A 203.0.113.80\nwww IN A 203.0.113.80\n"
    zone += "@ IN MX 10 mx1\n@ IN MX 20 mx2\n"
    for host, addresses in MX_ADDRESSES.items():
        for address in addresses:
            zone += f"{host} IN {'AAAA' if ':' in address else 'A'} {address}\n"
    zone += _txt(
        "@",
        "v=spf1 ip4:198.51.100.0/26 ip6:2001:db8:f00::/48 include:_spf.mail-suite.test "
        "include:spf.protection.office.test include:servers.mailer.test "
        "include:_spf.crm-cloud.test include:mail.helpdesk.test -all",
    )
    zone += _txt("@", "google-site-verification=8f3kq2Zr0bench")
    zone += _txt(
        "_dmarc",
        "v=DMARC1; p=reject; sp=reject; adkim=s; aspf=r; fo=1; "
        "rua=mailto:dmarc@bench.test,mailto:agg@dmarc-service.test; ruf=mailto:dmarc@bench.test",
    )
    for selector, record in _dkim_keys().items():
        zone += _txt(f"{selector}._domainkey", record)
    zone += _txt("_mta-sts", "v=STSv1; id=20261101T000000;")
    zone += _txt("_smtp._tls", "v=TLSRPTv1; rua=mailto:tlsrpt@bench.test")
    zone += _txt(
        "default._bimi",
        "v=BIMI1; l=https://bimi.bench.test/logo.svg; a=https://bimi.bench.test/vmc.pem",
    )
    zone += "".join(f"{name.split('.')[0]} IN A 127.0.0.1\n" for name in HTTPS_NAMES)
    reverse4 = _soa("2.0.192.in-addr.arpa")
    reverse6 = _soa("8.b.d.0.1.0.0.2.ip6.arpa")
    for host, addresses in MX_ADDRESSES.items():
        for address in addresses:
            name = dns.reversename.from_address(address).to_text()
            line = f"{name} IN PTR {host}.{DOMAIN}.\n"
            if ":" in address:
                reverse6 += line
            else:
                reverse4 += line
    return [zone, reverse4, reverse6]


def serve_https(server: LocalHTTPSServer, workdir: Path) -> Path:
    """Policy, logo and VMC; returns the mark root Todoke is told to trust."""
    logo = LOGO.read_bytes()
    issuer = MarkIssuer("Bench Mark Root")
    now = datetime.now(UTC)
    leaf = issuer.issue(
        names=(DOMAIN,),
        logotype=logotype_extension(logo),
        not_before=now - timedelta(days=30),
        not_after=now + timedelta(days=300),
    )
    server.serve("https://mta-sts.bench.test/.well-known/mta-sts.txt", Route(POLICY))
    server.serve("https://bimi.bench.test/logo.svg", Route(logo, content_type="image/svg+xml"))
    pem = issuer.pem(leaf)
    server.serve("https://bimi.bench.test/vmc.pem", Route(pem, content_type="application/pem"))
    root = workdir / "mark-root.pem"
    root.write_bytes(issuer.root.public_bytes(serialization.Encoding.PEM))
    return root


def _options(https: LocalHTTPSServer, ca: CertificateAuthority, root: Path) -> CheckOptions:
    ips = tuple(ip_address(text) for texts in MX_ADDRESSES.values() for text in texts)
    return CheckOptions(
        selectors=("s2024",),
        sending_ips=ips,
        https=HttpsOptions(port=https.port, ca_file=ca.cert_path),
        bimi_trust_roots=(root,),
    )


def _todoke_once(
    dns: LocalDNSServer, options: CheckOptions, sections: tuple[str, ...] = SECTIONS
) -> tuple[float, DomainCheck, int]:
    before = len(dns.queries)

    async def run() -> tuple[float, DomainCheck]:
        resolver = make_resolver([dns.nameserver])
        started = time.perf_counter()
        result = await check_domain(DOMAIN, resolver=resolver, options=options, sections=sections)
        return time.perf_counter() - started, result

    seconds, result = asyncio.run(run())
    return seconds, result, len(dns.queries) - before


def crashed_sections(dns: LocalDNSServer, options: CheckOptions) -> dict[str, str]:
    """Sections that raise instead of returning findings (reported, not fixed, here)."""
    crashed: dict[str, str] = {}
    for name in SECTIONS:
        try:
            _todoke_once(dns, options, (name,))
        except Exception as error:  # a crashing section is a finding of the benchmark itself
            crashed[name] = f"{type(error).__name__}: {error}"[:300]
    return crashed


def todoke(dns: LocalDNSServer, options: CheckOptions, sections: tuple[str, ...]) -> dict[str, Any]:
    warm_up, _, _ = _todoke_once(dns, options, sections)
    runs = [_todoke_once(dns, options, sections) for _ in range(RUNS)]
    seconds = [value for value, _, _ in runs]
    result = runs[-1][1]
    statuses: dict[str, int] = {}
    for finding in result.findings:
        statuses[finding.status.name] = statuses.get(finding.status.name, 0) + 1
    return {
        "sections": list(sections),
        "seconds": [round(value, 4) for value in seconds],
        "median_s": round(statistics.median(seconds), 4),
        "max_s": round(max(seconds), 4),
        "warm_up_s": round(warm_up, 4),
        "dns_questions": result.dns_queries,
        "dns_queries_received": sorted({queries for _, _, queries in runs}),
        "findings": statuses,
        "not_pass": sorted(
            f"{item.id} ({item.status.name})"
            for item in result.findings
            if item.status.name != "PASS"
        ),
    }


def checkdmarc(dns: LocalDNSServer, https: LocalHTTPSServer, ca: Path, mode: str) -> dict[str, Any]:
    before = len(dns.queries)
    command = [
        str(PEER_PYTHON),
        str(ROOT / "bench" / "peer_checkdmarc.py"),
        DOMAIN,
        f"--nameserver={dns.nameserver}",
        f"--https-port={https.port}",
        f"--ca-file={ca}",
        f"--runs={RUNS}",
        f"--mode={mode}",
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    # warm-up plus RUNS runs, each cold, so each sent the same queries
    result["dns_queries_received"] = (len(dns.queries) - before) / (RUNS + 1)
    return result


@contextmanager
def section_clock(finished: dict[str, float]) -> Iterator[None]:
    """Records when each section of a check_domain run returns, from the first one's start."""
    originals = dict(runner.SECTION_CHECKS)
    clock: list[float] = []

    def timed(name: str) -> Callable[[CheckContext], Awaitable[list[Finding]]]:
        async def section(context: CheckContext) -> list[Finding]:
            clock[:] = clock or [time.perf_counter()]
            try:
                return await originals[name](context)
            finally:
                finished[name] = round(time.perf_counter() - clock[0], 4)

        return section

    try:
        runner.SECTION_CHECKS.update({name: timed(name) for name in originals})
        yield
    finally:
        runner.SECTION_CHECKS.update(originals)


def profile(
    dns: LocalDNSServer, options: CheckOptions, sections: tuple[str, ...]
) -> dict[str, Any]:
    finished: dict[str, float] = {}
    with section_clock(finished):
        _todoke_once(dns, options, sections)
    alone: dict[str, Any] = {}
    for name in sections:
        seconds, result, _ = _todoke_once(dns, options, (name,))
        alone[name] = {
            "seconds": round(seconds, 4),
            "dns_questions": result.dns_queries,
            "round_trips_at_20ms": round(seconds / LATENCY, 1),
        }
    return {"finished_within_full_run_s": finished, "each_section_alone": alone}


def main() -> None:
    subprocess.run([str(ROOT / "scripts" / "peer-venv.sh")], check=True)
    figures: dict[str, Any] = {"domain": DOMAIN, "latency_s": LATENCY, "runs": RUNS}
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        ca = CertificateAuthority(workdir / "ca")
        with (
            LocalDNSServer() as dns,
            LocalHTTPSServer(ca.server_context(ca.issue(HTTPS_NAMES))) as https,
        ):
            for text in spf_zones() + domain_zones():
                dns.add_zone(text)
            dns.latency = LATENCY
            options = _options(https, ca, serve_https(https, workdir))
            crashed = crashed_sections(dns, options)
            sections = tuple(name for name in SECTIONS if name not in crashed)
            figures["crashed_sections"] = crashed
            figures["todoke"] = todoke(dns, options, sections)
            print("todoke", figures["todoke"])
            for mode in ("sections", "full"):
                figures[f"checkdmarc_{mode}"] = checkdmarc(dns, https, ca.cert_path, mode)
                print(f"checkdmarc {mode}", figures[f"checkdmarc_{mode}"])
            figures["todoke_profile"] = profile(dns, options, sections)
            print("profile", figures["todoke_profile"])
    figures["verdict"] = verdict(figures)
    print("verdict", figures["verdict"])
    print("written to", write_result("domain_check", figures))


def verdict(figures: dict[str, Any]) -> dict[str, Any]:
    ours = figures["todoke"]
    like = figures["checkdmarc_sections"]["median_s"] / ours["median_s"]
    full = figures["checkdmarc_full"]["median_s"] / ours["median_s"]
    return {
        "todoke_median_s": ours["median_s"],
        "todoke_max_s": ours["max_s"],
        "median_under_0_5_s": ours["median_s"] < TARGET_SECONDS,
        "max_under_0_5_s": ours["max_s"] < TARGET_SECONDS,
        "checkdmarc_sections_median_s": figures["checkdmarc_sections"]["median_s"],
        "checkdmarc_full_median_s": figures["checkdmarc_full"]["median_s"],
        "ratio_vs_checkdmarc_sections": round(like, 1),
        "ratio_vs_checkdmarc_full": round(full, 1),
        "at_least_3x": like >= TARGET_RATIO,
        "dns_queries_per_run": {
            "todoke": ours["dns_queries_received"],
            "checkdmarc_sections": figures["checkdmarc_sections"]["dns_queries_received"],
            "checkdmarc_full": figures["checkdmarc_full"]["dns_queries_received"],
        },
        "all_sections_ran": not figures["crashed_sections"],
    }
