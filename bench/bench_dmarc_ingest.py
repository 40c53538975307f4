"""DMARC ingest, storage included, against parsedmarc on the same corpus in the same run.

Target (issue 3): at least 30 times parsedmarc's records per second on SQLite and PostgreSQL, and
peak memory under 200 MB whatever the corpus size. Both sides read the same files: the generated
corpus (2,000 reports, ~56,000 rows, reporters' quirks, every wrapping) plus the shared samples.
parsedmarc runs offline with its GeoIP stubbed out (see bench/peer_parsedmarc.py), so it only
parses; Todoke parses *and* stores with roll-ups. Each side runs in its own process so each peak
RSS is its own. A second, five times larger corpus shows whether Todoke's memory stays flat.
The same run also times lxml alone parsing the corpus' XML (bench/ingest_ceiling.py): the most
any ingester built on lxml could reach here, to judge the 30x target against.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import engines, fresh_database, write_result
from todoke.dmarc.corpus import CorpusSpec, write_corpus

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "testdata" / "dmarc"
PEER_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
WORKERS = min(os.cpu_count() or 1, 8)


def _json_from(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _corpus(directory: Path, reports: int) -> tuple[Path, int]:
    summary = write_corpus(CorpusSpec(reports=reports), directory)
    for sample in SAMPLES.iterdir():
        if sample.name != "LICENSE":
            shutil.copy(sample, directory / sample.name)
    return directory, summary.records + 3  # the samples add three aggregate rows


def _todoke(engine_name: str, workdir: Path, corpus: Path, workers: int) -> dict[str, Any]:
    with fresh_database(engine_name, workdir) as url:
        return _json_from(
            [
                sys.executable,
                "-m",
                "bench.ingest_worker",
                str(workers),
                url,
                str(workdir / "data"),
                str(corpus),
            ]
        )


def main() -> None:
    subprocess.run([str(ROOT / "scripts" / "peer-venv.sh")], check=True)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        corpus, records = _corpus(workdir / "corpus", 2_000)
        peer = _json_from(
            [str(PEER_PYTHON), str(ROOT / "bench" / "peer_parsedmarc.py"), str(corpus)]
        )
        peer_rate = peer["records"] / peer["seconds"]
        shipped = _json_from(
            [str(PEER_PYTHON), str(ROOT / "bench" / "peer_parsedmarc.py"), "--geoip", str(corpus)]
        )
        shipped_rate = shipped["records"] / shipped["seconds"]
        figures["parsedmarc_as_shipped_with_geoip"] = {
            "records_per_s": round(shipped_rate),
            "seconds": shipped["seconds"],
            "peak_rss_mb": shipped.get("peak_rss_mb"),
        }
        figures["corpus"] = {"records": records, "files": sum(1 for _ in corpus.iterdir())}
        figures["parsedmarc"] = {
            "records_per_s": round(peer_rate),
            "seconds": peer["seconds"],
            "peak_rss_mb": peer.get("peak_rss_mb"),
            "records": peer["records"],
        }
        print("parsedmarc", figures["parsedmarc"])
        ceiling = _json_from([sys.executable, "-m", "bench.ingest_ceiling", str(corpus)])
        ceiling_rate = ceiling["records"] / ceiling["seconds"]
        figures["lxml_parse_only_ceiling"] = {
            **ceiling,
            "records_per_s": round(ceiling_rate),
            "ratio_vs_parsedmarc": round(ceiling_rate / peer_rate, 1),
            "ratio_vs_parsedmarc_as_shipped": round(ceiling_rate / shipped_rate, 1),
        }
        print("lxml parse only (ceiling)", figures["lxml_parse_only_ceiling"])
        for engine_name in engines():
            for workers in (1, WORKERS):
                result = _todoke(engine_name, workdir, corpus, workers)
                rate = records / result["seconds"]
                label = f"{engine_name}_{workers}_worker{'s' if workers > 1 else ''}"
                figures[label] = {
                    **result,
                    "records_per_s": round(rate),
                    "ratio_vs_parsedmarc": round(rate / peer_rate, 1),
                    "ratio_vs_parsedmarc_as_shipped": round(rate / shipped_rate, 1),
                }
                print(label, figures[label])
        large, large_records = _corpus(workdir / "large", 10_000)
        result = _todoke("sqlite", workdir, large, 1)
        figures["sqlite_5x_corpus"] = {
            **result,
            "records": large_records,
            "records_per_s": round(large_records / result["seconds"]),
        }
        print("sqlite, 5x corpus", figures["sqlite_5x_corpus"])
    print("written to", write_result("dmarc_ingest", figures))
