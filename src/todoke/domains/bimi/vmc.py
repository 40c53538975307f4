"""Mark certificates (VMC and CMC) checked the way a BIMI receiver checks them.

The `a=` tag points to a PEM chain whose leaf must: chain to a known mark issuer, carry the BIMI
extended key usage (id-kp-BrandIndicatorforMessageIdentification, 1.3.6.1.5.5.7.3.31), be valid
now, name the domain (or `<selector>._bimi.<domain>`) in its subjectAltName, and embed the logo
(RFC 3709 logotype) that `l=` serves, byte for byte after decompression (draft §7.9: the MTA
must check the two are identical). The mark type subject attribute says whether it is a VMC
(registered or government mark) or a CMC (prior use or modified registered mark).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from todoke.domains.bimi.chain import build_chain
from todoke.domains.bimi.logotype import (
    LOGOTYPE_OID,
    LogotypeError,
    LogotypeImage,
    embedded_logo,
    subject_images,
)

BIMI_EKU: Final = ObjectIdentifier("1.3.6.1.5.5.7.3.31")
MARK_TYPE_OID: Final = ObjectIdentifier("1.3.6.1.4.1.53087.1.13")
VMC_MARK_TYPES: Final = ("Registered Mark", "Government Mark")
CMC_MARK_TYPES: Final = ("Prior Use Mark", "Modified Registered Mark")
#: a PEM chain larger than this is not a mark certificate
MAX_PEM_BYTES: Final = 256 * 1024

ProblemCode = Literal[
    "parse",
    "chain",
    "untrusted",
    "expired",
    "not_yet_valid",
    "eku",
    "domain",
    "mark_type",
    "logo_missing",
    "logo_invalid",
    "logo_mismatch",
]
CertificateKind = Literal["VMC", "CMC"]


@dataclass(frozen=True, slots=True)
class MarkProblem:
    code: ProblemCode
    #: what is wrong, in English, for the evidence
    detail: str


@dataclass(frozen=True, slots=True)
class MarkCertificateReport:
    problems: tuple[MarkProblem, ...]
    subject: str = ""
    issuer: str = ""
    #: the known issuer the chain reached
    anchor: str = ""
    #: the issuer named by the last certificate of the chain (the unknown one when untrusted)
    top_issuer: str = ""
    not_before: datetime | None = None
    not_after: datetime | None = None
    #: the subject's mark type attribute as written, "" when absent
    mark_type: str = ""
    kind: CertificateKind | None = None
    names: tuple[str, ...] = ()
    #: the names the subjectAltName should hold (one is enough)
    expected_names: tuple[str, ...] = ()
    #: the SVG embedded in the certificate, decompressed
    logo: bytes | None = None

    def has(self, code: ProblemCode) -> bool:
        return any(problem.code == code for problem in self.problems)


def check_mark_certificate(
    pem: bytes,
    *,
    domain: str,
    selector: str,
    now: datetime,
    anchors: Iterable[x509.Certificate],
    logo: bytes | None = None,
) -> MarkCertificateReport:
    """Check the evidence document at `a=` for `selector._bimi.domain`; `logo` is the SVG
    served at `l=` (decompressed), compared with the one the certificate embeds."""
    try:
        certificates = x509.load_pem_x509_certificates(pem[:MAX_PEM_BYTES])
    except ValueError as error:
        detail = f"not a PEM certificate chain: {error}"
        return MarkCertificateReport((MarkProblem("parse", detail),))
    leaf = certificates[0]
    problems: list[MarkProblem] = []
    chain = build_chain(certificates, anchors, now)
    if chain.problem is not None:
        problems.append(MarkProblem(chain.problem, chain.detail))
    problems += _validity(leaf, now)
    problems += _usage(leaf)
    names = _names(leaf)
    expected = (domain.lower(), f"{selector}._bimi.{domain}".lower())
    if not any(name in expected for name in names):
        listed = ", ".join(names) or "no DNS names"
        detail = f"subjectAltName has {listed}, not {expected[0]} or {expected[1]}"
        problems.append(MarkProblem("domain", detail))
    mark_type = _mark_type(leaf)
    kind = _kind(mark_type)
    if mark_type and kind is None:
        problems.append(MarkProblem("mark_type", f"unknown mark type {mark_type!r}"))
    embedded, logo_problems = _logo(leaf, logo)
    return MarkCertificateReport(
        problems=tuple(problems + logo_problems),
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        anchor=chain.anchor.subject.rfc4514_string() if chain.anchor else "",
        top_issuer=chain.path[-1].issuer.rfc4514_string(),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        mark_type=mark_type,
        # Mark types came with CMCs (2024); a certificate without one is an older VMC.
        kind=kind if mark_type else "VMC",
        names=names,
        expected_names=expected,
        logo=embedded,
    )


def _validity(leaf: x509.Certificate, now: datetime) -> list[MarkProblem]:
    if now > leaf.not_valid_after_utc:
        return [MarkProblem("expired", f"expired on {leaf.not_valid_after_utc:%Y-%m-%d}")]
    if now < leaf.not_valid_before_utc:
        return [MarkProblem("not_yet_valid", f"valid from {leaf.not_valid_before_utc:%Y-%m-%d}")]
    return []


def _usage(leaf: x509.Certificate) -> list[MarkProblem]:
    try:
        usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return [MarkProblem("eku", "no extended key usage extension")]
    except ValueError as error:
        return [MarkProblem("eku", f"unreadable extended key usage: {error}")]
    if BIMI_EKU not in usage:
        listed = ", ".join(oid.dotted_string for oid in usage) or "none"
        return [
            MarkProblem("eku", f"extended key usage lists {listed}, not {BIMI_EKU.dotted_string}")
        ]
    return []


def _names(leaf: x509.Certificate) -> tuple[str, ...]:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return ()
    return tuple(name.rstrip(".").lower() for name in san.get_values_for_type(x509.DNSName))


def _mark_type(leaf: x509.Certificate) -> str:
    values = leaf.subject.get_attributes_for_oid(MARK_TYPE_OID)
    if not values:
        return ""
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", errors="replace")


def _kind(mark_type: str) -> CertificateKind | None:
    if mark_type in VMC_MARK_TYPES:
        return "VMC"
    if mark_type in CMC_MARK_TYPES:
        return "CMC"
    return None


def _logo(leaf: x509.Certificate, logo: bytes | None) -> tuple[bytes | None, list[MarkProblem]]:
    try:
        extension = leaf.extensions.get_extension_for_oid(ObjectIdentifier(LOGOTYPE_OID))
    except x509.ExtensionNotFound:
        return None, [MarkProblem("logo_missing", "no logotype extension (RFC 3709)")]
    except ValueError as error:
        return None, [MarkProblem("logo_invalid", f"unreadable extensions: {error}")]
    value = extension.value
    if not isinstance(value, x509.UnrecognizedExtension):
        return None, [MarkProblem("logo_invalid", "the logotype extension could not be read")]
    try:
        image = _svg_image(subject_images(value.value))
        embedded = embedded_logo(image)
    except LogotypeError as error:
        return None, [MarkProblem("logo_invalid", str(error))]
    problems: list[MarkProblem] = []
    if not embedded.hash_matches:
        algorithms = ", ".join(embedded.algorithms) or "none"
        detail = f"the logotype hash ({algorithms}) does not match the embedded image"
        problems.append(MarkProblem("logo_invalid", detail))
    if logo is not None and logo != embedded.svg:
        detail = (
            f"the logo at l= (sha256 {_sha256(logo)}) differs from the one in the certificate "
            f"(sha256 {_sha256(embedded.svg)})"
        )
        problems.append(MarkProblem("logo_mismatch", detail))
    return embedded.svg, problems


def _svg_image(images: tuple[LogotypeImage, ...]) -> LogotypeImage:
    for image in images:
        if image.media_type.split(";", 1)[0].strip().lower() == "image/svg+xml":
            return image
    raise LogotypeError("the logotype holds no image/svg+xml image")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
