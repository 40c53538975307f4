"""Vendored front-end files are exactly the published ones recorded in VENDOR.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "src/todoke/web/static/vendor"


def test_vendored_files_match_their_recorded_sha256() -> None:
    manifest = json.loads((VENDOR / "VENDOR.json").read_text())
    recorded = {entry["file"] for entry in manifest["files"]}
    on_disk = {path.name for path in VENDOR.glob("*.js")}
    assert recorded == on_disk
    for entry in manifest["files"]:
        digest = hashlib.sha256((VENDOR / entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], entry["file"]
        assert entry["version"] in entry["file"]
        assert entry["source"]
        assert entry["license"]
