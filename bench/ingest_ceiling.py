"""The floor any CPython DMARC ingester stands on: lxml parsing the corpus' XML, nothing else.

`python -m bench.ingest_ceiling CORPUS_DIR` takes every aggregate XML document out of the corpus
(decompressing .gz and .zip, opening emails; not timed), then times only lxml's C parser (with
Todoke's hardened settings) building each tree and counting its <record> elements: no field is
read, nothing is validated or stored. Records per second here bound from above what any ingester
that reads XML with lxml can reach on this machine; the ingest benchmark reports it beside
parsedmarc's rate, in the same run, so the issue's 30x target can be judged against it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from todoke.dmarc.parsing.containers import gunzip, zip_members
from todoke.dmarc.parsing.limits import DEFAULT_LIMITS, Budget
from todoke.dmarc.parsing.mime import read_email
from todoke.dmarc.parsing.xmlsafe import parse_tree


def _documents(name: str, data: bytes) -> list[bytes]:
    budget = Budget(DEFAULT_LIMITS)
    if data[:2] == b"\x1f\x8b":
        return _documents(name, gunzip(data, budget))
    if data[:4] == b"PK\x03\x04":
        found: list[bytes] = []
        for member, content in zip_members(data, budget, DEFAULT_LIMITS.max_archive_members):
            if isinstance(content, bytes):
                found += _documents(member, content)
        return found
    if data.lstrip()[:1] == b"<":
        return [data]
    if name.endswith(".eml"):
        contents = read_email(data, name, budget, DEFAULT_LIMITS.max_archive_members)
        return [doc for part in contents.attachments for doc in _documents(part.name, part.payload)]
    return []


def main(directory: str) -> None:
    documents = [
        doc
        for path in sorted(Path(directory).iterdir())
        for doc in _documents(path.name, path.read_bytes())
    ]
    started = time.perf_counter()
    records = 0
    for document in documents:
        root = parse_tree(document)
        if root is not None:
            records += sum(1 for _ in root.iter("{*}record"))
    seconds = time.perf_counter() - started
    result = {
        "documents": len(documents),
        "xml_mb": round(sum(map(len, documents)) / 2**20, 1),
        "records": records,
        "seconds": round(seconds, 3),
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
