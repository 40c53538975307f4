"""Peer harness: how long checkdmarc takes to check one domain, for the domain-check benchmark.

Runs in .venv-peers (scripts/peer-venv.sh), never in Todoke's venv, and imports nothing from
Todoke: `.venv-peers/bin/python bench/peer_checkdmarc.py DOMAIN --nameserver HOST:PORT
--https-port PORT --ca-file PEM [--runs N] [--mode full|sections]`. Prints one JSON object on
stdout.

How it reaches the benchmark's servers, from reading checkdmarc 6.0.4's source:
- DNS: every checkdmarc function accepts `nameservers=` entries that are dnspython `Nameserver`
  objects and passes them through untouched (utils._nameservers_to_resolver_input, and
  dnssec._query_nameserver for the DNSSEC queries), so a `Do53Nameserver(host, port)` points it
  at the rig's port with no patching; it still builds its own `dns.resolver.Resolver` per query
  and keeps its own retry and failover logic, as shipped.
- HTTPS (MTA-STS policy, BIMI logo and mark certificate): checkdmarc fetches with `requests`,
  which resolves the host with the operating system and connects to port 443. Here urllib3's
  `create_connection` is replaced by one that resolves the host's A record through the rig's
  DNS server (one query, paying the same added latency a stub resolver would) and connects to
  the rig's HTTPS port; TLS, SNI and certificate checks are untouched, with the test CA trusted
  through REQUESTS_CA_BUNDLE, which `requests` reads for every session.
- Every other outgoing connection or datagram is refused and counted (`network_attempts`), so a
  run is provably local.

Cold work per run: checkdmarc keeps process-wide caches (DNS answers, DNSSEC and TLSA results,
TLS probes, nameserver failures), all `ExpiringDict`s at module level; every one of them in any
checkdmarc module is cleared before each run. One untimed warm-up run first pays the imports
and lazy set-up, as Todoke's side does.

`--mode full` is `check_domains()` as shipped: DNSSEC, SOA, NS, MTA-STS, MX (with per-host
DNSSEC, TLSA and reverse DNS), SPF, DMARC, TLS-RPT and BIMI. `--mode sections` runs the same
calls in the same order minus DNSSEC, SOA and NS, which Todoke's check has no section for.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import checkdmarc
import dns.exception
import dns.nameserver
import dns.resolver
import urllib3.util.connection
from checkdmarc.bimi import check_bimi
from checkdmarc.dmarc import check_dmarc
from checkdmarc.mta_sts import check_mta_sts
from checkdmarc.smtp import check_mx
from checkdmarc.smtp_tls_reporting import check_smtp_tls_reporting
from checkdmarc.spf import check_spf
from expiringdict import ExpiringDict

HTTPS_PORT = 443


class Network:
    """Allows only the rig's DNS and HTTPS ports on its address; refuses and counts the rest."""

    refused = 0

    @classmethod
    def install(cls, host: str, ports: set[int]) -> None:
        allowed = {(host, port) for port in ports}

        def guarded(original: Callable[..., Any]) -> Callable[..., Any]:
            def call(self: socket.socket, *args: Any) -> Any:
                address = args[-1] if args else None
                if isinstance(address, tuple) and tuple(address[:2]) in allowed:
                    return original(self, *args)
                cls.refused += 1
                raise OSError(f"network disabled by the benchmark harness: {address!r}")

            return call

        # dnspython connects TCP with connect_ex and sends UDP with sendto
        for name in ("connect", "connect_ex", "sendto", "sendmsg"):
            setattr(socket.socket, name, guarded(getattr(socket.socket, name)))


def route_https(nameserver: dns.nameserver.Do53Nameserver, https_port: int) -> None:
    """HTTPS to NAME:443 goes to the address the rig's DNS gives NAME, on the rig's port."""
    original = urllib3.util.connection.create_connection
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [nameserver]

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address
        if port != HTTPS_PORT:
            raise OSError(f"only HTTPS on port {HTTPS_PORT} is routed, not {host}:{port}")
        try:
            answer = resolver.resolve(host, "A", search=False)
        except dns.exception.DNSException as error:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: {error}") from None
        connection: socket.socket = original((answer[0].address, https_port), *args, **kwargs)
        return connection

    urllib3.util.connection.create_connection = create_connection


def clear_caches() -> int:
    cleared = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("checkdmarc"):
            continue
        for value in vars(module).values():
            if isinstance(value, ExpiringDict):
                value.clear()
                cleared += 1
    return cleared


def check_full(domain: str, nameservers: list[Any]) -> dict[str, Any]:
    result = checkdmarc.check_domains([domain], nameservers=nameservers)
    assert isinstance(result, dict)
    return dict(result)


def check_sections(domain: str, nameservers: list[Any]) -> dict[str, Any]:
    """check_domains() minus DNSSEC, SOA and NS: the same calls, arguments and order."""
    mta_sts = check_mta_sts(domain, nameservers=nameservers)
    patterns = mta_sts["policy"]["mx"] if mta_sts["valid"] is True else None
    results: dict[str, Any] = {"domain": domain, "mta_sts": mta_sts}
    results["mx"] = check_mx(domain, mta_sts_mx_patterns=patterns, nameservers=nameservers)
    results["spf"] = check_spf(domain, nameservers=nameservers)
    results["dmarc"] = check_dmarc(domain, nameservers=nameservers)
    results["smtp_tls_reporting"] = check_smtp_tls_reporting(domain, nameservers=nameservers)
    results["bimi"] = check_bimi(
        domain, selector="default", parsed_dmarc_record=results["dmarc"], nameservers=nameservers
    )
    return results


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """What each part found, to show the peer did its full work (records read, files fetched)."""
    bimi = result.get("bimi", {})
    spf = result.get("spf", {})
    return {
        "dnssec": result.get("dnssec"),
        "soa_ok": "error" not in result.get("soa", {"error": "not run"}),
        "ns": result.get("ns", {}).get("hostnames"),
        "spf_valid": spf.get("valid"),
        "spf_dns_lookups": spf.get("dns_lookups"),
        "spf_error": spf.get("error"),
        "dmarc_valid": result.get("dmarc", {}).get("valid"),
        "dmarc_warnings": len(result.get("dmarc", {}).get("warnings", [])),
        "mx_hosts": [host.get("hostname") for host in result.get("mx", {}).get("hosts", [])],
        "mx_warnings": result.get("mx", {}).get("warnings"),
        "mta_sts_valid": result.get("mta_sts", {}).get("valid"),
        "mta_sts_error": result.get("mta_sts", {}).get("error"),
        "tlsrpt_valid": result.get("smtp_tls_reporting", {}).get("valid"),
        "bimi_valid": bimi.get("valid"),
        "bimi_error": bimi.get("error"),
        "bimi_image_fetched": "sha256" in bimi.get("image", {}),
        "bimi_image_error": bimi.get("image", {}).get("error"),
        "bimi_certificate_fetched": "error" not in bimi.get("certificate", {"error": None}),
        "bimi_certificate_valid": bimi.get("certificate", {}).get("valid"),
        "bimi_certificate_errors": bimi.get("certificate", {}).get("validation_errors"),
        "bimi_warnings": bimi.get("warnings"),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("domain")
    parser.add_argument("--nameserver", required=True, help="HOST:PORT of the rig's DNS server")
    parser.add_argument("--https-port", type=int, required=True)
    parser.add_argument("--ca-file", required=True, help="PEM of the CA the HTTPS server uses")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--mode", choices=("full", "sections"), default="full")
    args = parser.parse_args(argv)
    host, port = args.nameserver.rsplit(":", 1)
    logging.getLogger("checkdmarc").setLevel(logging.CRITICAL)
    os.environ["REQUESTS_CA_BUNDLE"] = args.ca_file
    nameserver = dns.nameserver.Do53Nameserver(host, int(port))
    Network.install(host, {int(port), args.https_port})
    route_https(nameserver, args.https_port)
    check = check_full if args.mode == "full" else check_sections
    seconds: list[float] = []
    result: dict[str, Any] = {}
    first = 0.0
    for run in range(args.runs + 1):
        clear_caches()
        started = time.perf_counter()
        result = check(args.domain, [nameserver])
        if run:  # the first run is the warm-up
            seconds.append(time.perf_counter() - started)
        else:
            first = time.perf_counter() - started
    print(
        json.dumps(
            {
                "peer": "checkdmarc",
                "version": checkdmarc.__version__,
                "python": sys.version.split()[0],
                "mode": args.mode,
                "runs": args.runs,
                "seconds": [round(value, 4) for value in seconds],
                "median_s": round(statistics.median(seconds), 4),
                "max_s": round(max(seconds), 4),
                "warm_up_s": round(first, 4),
                "caches_cleared_per_run": clear_caches(),
                "network_attempts_refused": Network.refused,
                "found": summary(result),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
