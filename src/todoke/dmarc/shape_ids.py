"""Shape ids: each distinct combination of a record's authentication results is stored once per
organisation (`dmarc_shape`) and records point at it. Ingest loads an organisation's shapes once
per batch and inserts the new ones in fingerprint order, so concurrent ingests lock alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from todoke.dmarc.models import DmarcShape
from todoke.dmarc.shapes import ShapeKey


def _fingerprint(key: ShapeKey) -> str:
    text = "\x1f".join("" if value is None else str(value) for value in key)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


SHAPE_COLUMNS = (
    "header_from",
    "dkim_aligned",
    "spf_aligned",
    "spf_domain",
    "spf_result",
    "dkim_domain",
    "dkim_selector",
    "dkim_result",
    "override",
    "disposition",
)


class ShapeIds:
    """Shape key -> id for one organisation, loaded once per batch."""

    def __init__(self, session: Session, organisation_id: int) -> None:
        self._session = session
        self._org = organisation_id
        rows = session.execute(
            select(DmarcShape.fingerprint, DmarcShape.id).where(
                DmarcShape.organisation_id == organisation_id
            )
        )
        self._by_fingerprint: dict[str, int] = {row[0]: row[1] for row in rows}
        self._by_key: dict[ShapeKey, int] = {}

    def ids_for(self, keys: Iterable[ShapeKey]) -> dict[ShapeKey, int]:
        known = self._by_key
        missing: dict[str, ShapeKey] = {}
        for key in keys:
            if key in known:
                continue
            fingerprint = _fingerprint(key)
            found = self._by_fingerprint.get(fingerprint)
            if found is None:
                missing[fingerprint] = key
            else:
                known[key] = found
        if missing:
            rows = [
                {
                    "organisation_id": self._org,
                    "fingerprint": fingerprint,
                    **dict(zip(SHAPE_COLUMNS, key, strict=True)),
                }
                for fingerprint, key in sorted(missing.items())
            ]
            returned = self._session.execute(
                insert(DmarcShape).returning(
                    DmarcShape.fingerprint, DmarcShape.id, sort_by_parameter_order=True
                ),
                rows,
            )
            for fingerprint, pk in returned:
                self._by_fingerprint[fingerprint] = pk
                known[missing[fingerprint]] = pk
        return known
