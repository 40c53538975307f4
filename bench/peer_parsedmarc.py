"""Peer harness: how fast parsedmarc reads a corpus of report files, for the ingest benchmark.

Runs in .venv-peers (scripts/peer-venv.sh), never in Todoke's venv, and imports nothing from
Todoke: `.venv-peers/bin/python bench/peer_parsedmarc.py DIR_OR_FILES... [--geoip] [--keep]`.
Prints one JSON object on stdout.

Fairness, from reading parsedmarc 11.1.0's source:
- `offline=True` skips the reverse-DNS (PTR) lookup per record (utils.get_ip_address_info) and
  makes the reverse-DNS service map load from the bundled CSV instead of downloading it.
- GeoIP/ASN enrichment still runs offline against the bundled IPinfo MMDB, and there is no option
  to turn it off; by default this harness replaces utils.get_ip_address_db_record with a stub so
  both sides only parse. `--geoip` keeps it, measuring parsedmarc as it ships.
- The IPinfo REST lookup only runs with a configured token (none here).
- Every socket connect/send is refused and counted (`network_attempts`), so the run is provably
  network-free.
- normalize_timespan_threshold_hours is raised so multi-day reports are not split into one record
  per day: `records` then counts the reports' rows, as Todoke's side does.
- By default each parsed report is dropped after counting; `--keep` holds them all in memory as
  parsedmarc's CLI does before saving, which is what its peak memory looks like in real use.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import parsedmarc
import parsedmarc.utils

NO_TIMESPAN_SPLIT_HOURS = 24.0 * 365 * 100


class NetworkAttempts:
    """Refuses and counts every outgoing connection or datagram."""

    count = 0

    @classmethod
    def install(cls) -> None:
        def refuse(_self: socket.socket, *_args: object, **_kwargs: object) -> Any:
            cls.count += 1
            raise OSError("network disabled by the benchmark harness")

        for name in ("connect", "connect_ex", "sendto", "sendmsg"):
            setattr(socket.socket, name, refuse)


def disable_geoip() -> None:
    def no_record(_ip_address: str, **_options: object) -> dict[str, None]:
        return {"country": None, "asn": None, "as_name": None, "as_domain": None}

    parsedmarc.utils.get_ip_address_db_record = no_record  # type: ignore[assignment]


def report_files(arguments: Iterable[str]) -> Iterator[Path]:
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            yield from sorted(child for child in path.iterdir() if child.is_file())
        else:
            yield path


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(paths: list[Path], *, keep: bool) -> dict[str, Any]:
    kept: list[Any] = []
    totals = {"files": 0, "aggregate_reports": 0, "other_reports": 0, "records": 0}
    messages = 0
    failures: list[str] = []
    unique: set[tuple[str, str]] = set()
    started = time.perf_counter()
    for path in paths:
        totals["files"] += 1
        try:
            parsed = parsedmarc.parse_report_file(
                str(path),
                offline=True,
                normalize_timespan_threshold_hours=NO_TIMESPAN_SPLIT_HOURS,
            )
        except Exception as error:  # one bad file must not stop the run: count it
            failures.append(f"{path.name}: {type(error).__name__}: {error}"[:300])
            continue
        if parsed["report_type"] != "aggregate":
            totals["other_reports"] += 1
            continue
        report = parsed["report"]
        totals["aggregate_reports"] += 1
        metadata = report["report_metadata"]
        unique.add((metadata["org_name"], metadata["report_id"]))
        totals["records"] += len(report["records"])
        messages += sum(int(record["count"]) for record in report["records"])
        if keep:
            kept.append(parsed)
    seconds = time.perf_counter() - started
    return totals | {
        "unique_aggregate_reports": len(unique),
        "messages": messages,
        "failures": len(failures),
        "failure_examples": failures[:5],
        "seconds": round(seconds, 3),
        "records_per_second": round(totals["records"] / seconds, 1) if seconds else None,
        "reports_per_second": round(totals["aggregate_reports"] / seconds, 1) if seconds else None,
        "kept_reports": len(kept),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", help="report files or directories of them")
    parser.add_argument("--geoip", action="store_true", help="keep the bundled MMDB lookups")
    parser.add_argument("--keep", action="store_true", help="hold parsed reports like the CLI")
    args = parser.parse_args(argv)
    logging.getLogger("parsedmarc").setLevel(logging.CRITICAL)
    NetworkAttempts.install()
    if not args.geoip:
        disable_geoip()
    paths = list(report_files(args.inputs))
    baseline = peak_rss_mb()
    result = run(paths, keep=args.keep)
    result |= {
        "peer": "parsedmarc",
        "version": parsedmarc.__version__,
        "python": sys.version.split()[0],
        "offline": True,
        "geoip": args.geoip,
        "keep": args.keep,
        "network_attempts": NetworkAttempts.count,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
