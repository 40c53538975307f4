"""Does a mark certificate chain to a known issuer? Path building over the PEM the domain serves.

The `a=` document is the leaf followed by its intermediates, in any order. We walk from the leaf
to an issuer we know (the VMC/CMC roots bundled with Todoke, plus any configured), matching the
issuer by name and, when the certificate says, by key identifier, and checking every signature
and validity period on the way. Each way to fail is told apart, because the fixes differ: a
missing intermediate, a broken signature, an expired intermediate, or an unknown issuer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

ChainProblem = Literal["chain", "untrusted"]
_MAX_PATH = 8
_SHA256 = hashes.SHA256()


@dataclass(frozen=True, slots=True)
class ChainResult:
    #: the certificates from the leaf up, ending with the trust anchor when one was reached
    path: tuple[x509.Certificate, ...]
    anchor: x509.Certificate | None
    problem: ChainProblem | None = None
    #: what is wrong, in English, for the evidence
    detail: str = ""


@cache
def bundled_roots() -> tuple[x509.Certificate, ...]:
    """The VMC/CMC issuer certificates shipped in data/vmc-roots (see its README)."""
    folder = resources.files("todoke.domains.bimi").joinpath("data/vmc-roots")
    found: list[x509.Certificate] = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".pem"):
            found += x509.load_pem_x509_certificates(entry.read_bytes())
    return tuple(found)


def build_chain(
    certificates: Sequence[x509.Certificate],
    anchors: Iterable[x509.Certificate],
    now: datetime,
) -> ChainResult:
    """Walk from `certificates[0]` through the others to one of `anchors`."""
    known = tuple(anchors)
    path = [certificates[0]]
    pool = list(certificates[1:])
    while len(path) <= _MAX_PATH:
        current = path[-1]
        anchor = _issuer_in(current, known)
        if anchor is not None:
            return _finish(path, anchor, now)
        if _self_issued(current):
            detail = f"self-signed {current.subject.rfc4514_string()} is not a known mark issuer"
            return ChainResult(tuple(path), None, "untrusted", detail)
        following = _issuer_in(current, [item for item in pool if item not in path])
        if following is None:
            return _dead_end(path, (*pool, *known))
        path.append(following)
    return ChainResult(tuple(path), None, "chain", f"no issuer within {_MAX_PATH} certificates")


def _issuer_in(
    certificate: x509.Certificate, candidates: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    wanted = _authority_key_id(certificate)
    for candidate in candidates:
        if candidate.subject != certificate.issuer:
            continue
        if wanted is not None and _subject_key_id(candidate) not in (wanted, None):
            continue
        if _signed_by(certificate, candidate):
            return candidate
    return None


def _signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _dead_end(path: list[x509.Certificate], seen: tuple[x509.Certificate, ...]) -> ChainResult:
    """No certificate we have signed `path[-1]`: say whether one claimed to, and which."""
    current = path[-1]
    issuer = current.issuer.rfc4514_string()
    if any(candidate.subject == current.issuer for candidate in seen):
        subject = current.subject.rfc4514_string()
        detail = f"the signature on {subject} does not verify with the issuer {issuer}"
        return ChainResult(tuple(path), None, "chain", detail)
    if len(path) == 1:
        # A leaf alone whose issuer nobody knows: most often the intermediate was left out.
        detail = f"the issuing certificate {issuer} is missing from the document"
        return ChainResult(tuple(path), None, "chain", detail)
    return ChainResult(tuple(path), None, "untrusted", f"{issuer} is not a known mark issuer")


def _finish(path: list[x509.Certificate], anchor: x509.Certificate, now: datetime) -> ChainResult:
    for certificate in (*path[1:], anchor):
        subject = certificate.subject.rfc4514_string()
        if not _is_ca(certificate):
            detail = f"{subject} issues certificates but is not a CA (basicConstraints)"
            return ChainResult((*path, anchor), anchor, "chain", detail)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            detail = f"the issuing certificate {subject} is outside its validity period"
            return ChainResult((*path, anchor), anchor, "chain", detail)
    ends_with_anchor = path[-1].fingerprint(_SHA256) == anchor.fingerprint(_SHA256)
    return ChainResult(tuple(path) if ends_with_anchor else (*path, anchor), anchor)


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


def _self_issued(certificate: x509.Certificate) -> bool:
    return certificate.subject == certificate.issuer


def _authority_key_id(certificate: x509.Certificate) -> bytes | None:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        return None
    return extension.value.key_identifier


def _subject_key_id(certificate: x509.Certificate) -> bytes | None:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        return None
    return extension.value.digest
