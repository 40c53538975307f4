"""What a published DKIM key tells a receiver: its type and strength, its hashes, its flags.

Split from the DKIM section so the rules read on one screen: the section finds the keys, this
module judges one parsed key.
"""

from __future__ import annotations

from typing import Final

from todoke.domains.checks.findings import Finding, Status
from todoke.domains.dkim_record import DkimKeyRecord, KeyType

KEY_TYPE_LABELS: Final = {KeyType.RSA: "RSA", KeyType.ED25519: "Ed25519"}

#: RFC 8301 §3.2: signers MUST use at least 1024 bits and SHOULD use 2048; verifiers MUST
#: handle 1024 to 4096 bits, so a longer key may not be verified at all.
RSA_MINIMUM_BITS: Final = 1024
RSA_RECOMMENDED_BITS: Final = 2048
RSA_VERIFIABLE_BITS: Final = 4096


def key_findings(
    selector: str, name: str, record: DkimKeyRecord, evidence: tuple[str, ...]
) -> list[Finding]:
    """The findings for one usable (not revoked) key at `name`."""
    values = {"selector": selector, "name": name}
    found = [
        Finding(
            id="dkim.key_found",
            status=Status.PASS,
            values={**values, "key_type": KEY_TYPE_LABELS[record.key_type], "bits": record.bits},
            evidence=evidence,
        )
    ]
    if record.key_type is KeyType.RSA:
        found += _rsa_findings(record, values, evidence)
    found += _hash_findings(record, values, evidence)
    if record.testing:
        # RFC 6376 §3.6.1 t=y: verifiers MUST NOT treat the mail differently from unsigned mail.
        found.append(Finding("dkim.testing", Status.WARN, values, evidence))
    if record.strict:
        found.append(Finding("dkim.strict", Status.INFO, values, evidence))
    return found


def _rsa_findings(
    record: DkimKeyRecord, values: dict[str, str], evidence: tuple[str, ...]
) -> list[Finding]:
    found: list[Finding] = []
    bits = record.bits
    if bits < RSA_MINIMUM_BITS:
        found.append(Finding("dkim.rsa_weak", Status.FAIL, {**values, "bits": bits}, evidence))
    elif bits == RSA_MINIMUM_BITS:
        found.append(Finding("dkim.rsa_1024", Status.WARN, values, evidence))
    elif bits < RSA_RECOMMENDED_BITS:
        found.append(Finding("dkim.rsa_short", Status.WARN, {**values, "bits": bits}, evidence))
    elif bits > RSA_VERIFIABLE_BITS:
        found.append(Finding("dkim.rsa_oversize", Status.WARN, {**values, "bits": bits}, evidence))
    if record.rsa_encoding == "pkcs1":
        # OpenDKIM, dkimpy and most receivers read only SubjectPublicKeyInfo (erratum 3017).
        found.append(Finding("dkim.rsa_pkcs1", Status.FAIL, values, evidence))
    return found


def _hash_findings(
    record: DkimKeyRecord, values: dict[str, str], evidence: tuple[str, ...]
) -> list[Finding]:
    if record.accepts_hash("sha256"):
        return []
    algorithms = ":".join(record.hash_algorithms or ())
    if record.accepts_hash("sha1"):
        # RFC 8301 §3.1: verifiers MUST NOT accept rsa-sha1, so h=sha1 leaves nothing valid.
        return [
            Finding("dkim.sha1_only", Status.FAIL, {**values, "algorithms": algorithms}, evidence)
        ]
    reason = f"h={algorithms} allows no hash algorithm verifiers use; sha256 is required"
    return [Finding("dkim.syntax", Status.FAIL, {**values, "reason": reason}, evidence)]
