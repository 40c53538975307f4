"""Canonical form, hashing and masking of audit events (pure functions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from todoke.audit.chain import GENESIS_HASH, canonical_json, event_hash, hashed_fields
from todoke.audit.masking import REDACTED, mask_details, mask_email


def _fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "chain": "org:1",
        "seq": 1,
        "organisation_id": 1,
        "occurred_at": datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC),
        "actor_user_id": 7,
        "actor_label": "owner@kyokai.example.jp",
        "action": "x.y",
        "target_type": None,
        "target_id": None,
        "ip": "192.0.2.1",
        "details": {"a": 1},
    }
    base.update(changes)
    return hashed_fields(**base)


def test_hash_is_sha256_of_prev_and_canonical_event() -> None:
    import hashlib

    fields = _fields()
    expected = hashlib.sha256(bytes.fromhex(GENESIS_HASH) + canonical_json(fields)).hexdigest()
    assert event_hash(GENESIS_HASH, fields) == expected


def test_every_field_and_the_previous_hash_change_the_hash() -> None:
    original = event_hash(GENESIS_HASH, _fields())
    for change in (
        {"seq": 2},
        {"actor_label": "x"},
        {"details": {"a": 2}},
        {"ip": None},
        {"occurred_at": datetime(2026, 11, 23, 9, 0, 0, 123457, tzinfo=UTC)},
    ):
        assert event_hash(GENESIS_HASH, _fields(**change)) != original, change
    assert event_hash("1" * 64, _fields()) != original


def test_canonical_form_ignores_key_order() -> None:
    assert canonical_json({"b": 1, "a": "届"}) == canonical_json({"a": "届", "b": 1})


def test_masking() -> None:
    assert mask_email("taro.yamada@example.jp") == "t***@example.jp"
    masked = mask_details(
        {
            "to": ["a@x.example", "bob@y.example"],
            "password": "p",
            "nested": {"API_KEY": "k", "note": "from c@z.example"},
        }
    )
    assert masked == {
        "to": ["a***@x.example", "b***@y.example"],
        "password": REDACTED,
        "nested": {"API_KEY": REDACTED, "note": "from c***@z.example"},
    }


@given(st.emails())
def test_no_address_survives_masking_verbatim(address: str) -> None:
    local, _, domain = address.rpartition("@")
    assume(len(local) >= 2)
    assume(re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", domain))
    assert address not in mask_email(f"contact <{address}> now")
