"""Canonical form and hashing of audit events (pure functions)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
SYSTEM_CHAIN = "system"


def chain_name(organisation_id: int | None) -> str:
    return SYSTEM_CHAIN if organisation_id is None else f"org:{organisation_id}"


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def normalise_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Round-trip through JSON so what is hashed is exactly what the database gives back."""
    result: dict[str, Any] = json.loads(canonical_json(dict(details)))
    return result


def timestamp_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """`SHA-256(prev_hash || canonical event)`, prev_hash taken as its 32 raw bytes."""
    digest = hashlib.sha256(bytes.fromhex(prev_hash))
    digest.update(canonical_json(dict(fields)))
    return digest.hexdigest()


def hashed_fields(
    *,
    chain: str,
    seq: int,
    organisation_id: int | None,
    occurred_at: datetime,
    actor_user_id: int | None,
    actor_label: str,
    action: str,
    target_type: str | None,
    target_id: str | None,
    ip: str | None,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "chain": chain,
        "seq": seq,
        "organisation_id": organisation_id,
        "occurred_at": timestamp_text(occurred_at),
        "actor_user_id": actor_user_id,
        "actor_label": actor_label,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "ip": ip,
        "details": dict(details),
    }
