"""Todoke's side of the ingest benchmark, run as its own process so its peak memory is its own:
`python -m bench.ingest_worker WORKERS DATABASE_URL DATA_DIR PATH...` prints one JSON object."""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

from todoke.accounts.services import create_organisation, sync_builtin_roles
from todoke.authz import CLI_ACTOR
from todoke.dmarc.intake import BatchIngestor, iter_input_files, limits_from
from todoke.runtime import Runtime
from todoke.settings import Settings


class TreeMemory(threading.Thread):
    """Samples the summed RSS of this process and all its descendants (parser workers)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.05):
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(os.getpid()))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _tree_rss_kib(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        parents[pid] = int(fields.get("PPid", "0").strip() or 0)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    members = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                changed = True
    return sum(rss.get(pid, 0) for pid in members)


def main(argv: list[str]) -> int:
    workers, database_url, data_dir, *paths = argv
    settings = Settings(data_dir=Path(data_dir), database_url=database_url, secret_key="bench")  # type: ignore[arg-type]
    runtime = Runtime.from_settings(settings)
    with runtime.session() as session, session.begin():
        sync_builtin_roles(session)
        org = create_organisation(session, name="bench", slug="bench", acting_user=CLI_ACTOR)
    files = list(iter_input_files([Path(path) for path in paths]))
    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sampler = TreeMemory()
    sampler.start()
    started = time.perf_counter()
    ingestor = BatchIngestor(
        runtime.session,
        organisation_id=org.id,
        acting_user=CLI_ACTOR,
        channel="folder",
        limits=limits_from(settings),
    )
    summary = ingestor.add_paths(files, workers=int(workers))
    seconds = time.perf_counter() - started
    sampler.stop()
    runtime.close()
    print(
        json.dumps(
            {
                "files": summary.files,
                "reports": dict(summary.reports),
                "records_stored": summary.records,
                "duplicates": summary.duplicates,
                "errors": len(summary.errors),
                "seconds": round(seconds, 3),
                "baseline_rss_mb": round(baseline_kib / 1024, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "workers": int(workers),
                "peak_rss_all_processes_mb": round(sampler.peak_kib / 1024, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
