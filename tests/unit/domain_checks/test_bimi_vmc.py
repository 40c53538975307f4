"""Mark certificates (VMC/CMC): a test mark CA issues VMC-like certificates built with
`cryptography`, and each way a real one can be wrong is checked against `check_mark_certificate`.

`MarkIssuer` and `logotype_extension` are also used by the BIMI integration tests.
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from todoke.domains.bimi import bundled_roots, check_mark_certificate
from todoke.domains.bimi.logotype import LOGOTYPE_OID, data_uri
from todoke.domains.bimi.vmc import BIMI_EKU, MARK_TYPE_OID, MarkCertificateReport

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "bimi" / "samples"
SVG = (SAMPLES / "valid-minimal.svg").read_bytes()
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SHA256_OID = "2.16.840.1.101.3.4.2.1"
SHA1_OID = "1.3.14.3.2.26"


# --- DER and the RFC 3709 logotype, built by hand -------------------------------------------


def der(tag: int, content: bytes) -> bytes:
    if len(content) < 0x80:
        return bytes((tag, len(content))) + content
    size = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def oid(dotted: str) -> bytes:
    numbers = [int(part) for part in dotted.split(".")]
    body = bytearray()
    for number in [40 * numbers[0] + numbers[1], *numbers[2:]]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body += bytes(reversed(chunk))
    return der(0x06, bytes(body))


def logotype_extension(
    svg: bytes = SVG,
    *,
    hash_oid: str = SHA256_OID,
    hashed: bytes | None = None,
    uri: str | None = None,
    media_type: str = "image/svg+xml",
    explicit: bool = False,
) -> bytes:
    """LogotypeExtn with a subject logo; `hashed` defaults to the gzipped SVG as issuers do."""
    name = {SHA256_OID: "sha256", SHA1_OID: "sha1"}.get(hash_oid, "sha256")
    value = hashlib.new(name, gzip.compress(svg, mtime=0) if hashed is None else hashed).digest()
    algorithm = der(0x30, oid(hash_oid) + der(0x05, b""))
    details = der(
        0x30,
        der(0x16, media_type.encode())
        + der(0x30, der(0x30, algorithm + der(0x04, value)))
        + der(0x30, der(0x16, (uri or data_uri(svg)).encode())),
    )
    images = der(0x30, der(0x30, details))
    # RFC 3709 is IMPLICIT TAGS: [0] replaces LogotypeData's SEQUENCE; some tools wrote it
    # EXPLICIT, wrapping the SEQUENCE instead.
    direct = der(0xA0, der(0x30, images) if explicit else images)
    return der(0x30, der(0xA2, direct))


# --- a mark CA -----------------------------------------------------------------------------


def _name(common_name: str, *extra: x509.NameAttribute) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name), *extra])


def _ca_certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    not_after: datetime = NOW + timedelta(days=3650),
    authority_key: ec.EllipticCurvePublicKey | None = None,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=3650))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                authority_key or issuer_key.public_key()
            ),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


class MarkIssuer:
    """A root and an intermediate, like a mark verifying authority's, issuing VMC-like leaves."""

    def __init__(self, name: str = "Todoke Test Mark Root", *, intermediate_expired: bool = False):
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _ca_certificate(_name(name), self.root_key, _name(name), self.root_key)
        self.intermediate_key = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = _ca_certificate(
            _name(f"{name} Mark Issuing CA"),
            self.intermediate_key,
            self.root.subject,
            self.root_key,
            not_after=NOW - timedelta(days=1) if intermediate_expired else NOW + timedelta(3000),
        )

    def issue(
        self,
        *,
        names: tuple[str, ...] = ("example.test",),
        mark_type: str | None = "Registered Mark",
        eku: tuple[ObjectIdentifier, ...] = (BIMI_EKU,),
        logotype: bytes | None = None,
        with_logotype: bool = True,
        not_before: datetime = NOW - timedelta(days=30),
        not_after: datetime = NOW + timedelta(days=335),
        signer: ec.EllipticCurvePrivateKey | None = None,
    ) -> x509.Certificate:
        key = ec.generate_private_key(ec.SECP256R1())
        extra = [x509.NameAttribute(MARK_TYPE_OID, mark_type)] if mark_type else []
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("Example Brand", *extra))
            .issuer_name(self.intermediate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False
            )
        )
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        if with_logotype:
            extension = x509.UnrecognizedExtension(
                ObjectIdentifier(LOGOTYPE_OID), logotype or logotype_extension()
            )
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(signer or self.intermediate_key, hashes.SHA256())

    def pem(
        self, leaf: x509.Certificate, *, intermediate: bool = True, root: bool = False
    ) -> bytes:
        chain = [
            leaf,
            *([self.intermediate] if intermediate else []),
            *([self.root] if root else []),
        ]
        return b"".join(item.public_bytes(serialization.Encoding.PEM) for item in chain)


@pytest.fixture(scope="module")
def issuer() -> MarkIssuer:
    return MarkIssuer()


def check(
    pem: bytes,
    issuer: MarkIssuer,
    *,
    domain: str = "example.test",
    logo: bytes | None = SVG,
    now: datetime = NOW,
) -> MarkCertificateReport:
    return check_mark_certificate(
        pem, domain=domain, selector="default", now=now, anchors=[issuer.root], logo=logo
    )


def codes(report: MarkCertificateReport) -> list[str]:
    return [problem.code for problem in report.problems]


# --- the tests -----------------------------------------------------------------------------


def test_complete_chain_to_a_known_issuer_is_valid(issuer: MarkIssuer) -> None:
    report = check(issuer.pem(issuer.issue()), issuer)
    assert codes(report) == []
    assert (report.kind, report.mark_type) == ("VMC", "Registered Mark")
    assert report.anchor == issuer.root.subject.rfc4514_string()
    assert report.logo == SVG


def test_chain_served_with_its_root_is_valid_too(issuer: MarkIssuer) -> None:
    assert codes(check(issuer.pem(issuer.issue(), root=True), issuer)) == []


def test_intermediates_in_any_order_are_accepted(issuer: MarkIssuer) -> None:
    leaf = issuer.issue()
    pem = b"".join(
        item.public_bytes(serialization.Encoding.PEM)
        for item in (leaf, issuer.root, issuer.intermediate)
    )
    assert codes(check(pem, issuer)) == []


def test_missing_intermediate_breaks_the_chain(issuer: MarkIssuer) -> None:
    report = check(issuer.pem(issuer.issue(), intermediate=False), issuer)
    assert codes(report) == ["chain"]
    assert "missing from the document" in report.problems[0].detail


def test_leaf_signed_by_another_key_breaks_the_chain(issuer: MarkIssuer) -> None:
    forged = issuer.issue(signer=ec.generate_private_key(ec.SECP256R1()))
    report = check(issuer.pem(forged), issuer)
    assert codes(report) == ["chain"]
    assert "does not verify" in report.problems[0].detail


def test_expired_intermediate_breaks_the_chain() -> None:
    stale = MarkIssuer(intermediate_expired=True)
    report = check(stale.pem(stale.issue()), stale)
    assert codes(report) == ["chain"]
    assert "validity period" in report.problems[0].detail


def test_certificate_from_an_unknown_issuer_is_untrusted(issuer: MarkIssuer) -> None:
    stranger = MarkIssuer("Unknown Mark Root")
    report = check(stranger.pem(stranger.issue(), root=True), issuer)
    assert codes(report) == ["untrusted"]
    assert "Unknown Mark Root" in report.problems[0].detail


def test_bundled_roots_are_the_vmc_issuers() -> None:
    roots = bundled_roots()
    assert len(roots) == 10
    organisations = {
        attribute.value
        for root in roots
        for attribute in root.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    }
    assert {
        "DigiCert, Inc.",
        "Entrust, Inc.",
        "GlobalSign nv-sa",
        "SSL Corporation",
    } <= organisations
    assert all(
        root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca for root in roots
    )


def test_chain_claiming_a_real_issuer_is_found_by_name_and_key_and_fails_its_signature() -> None:
    digicert = next(
        root
        for root in bundled_roots()
        if "DigiCert Verified Mark Root CA" in root.subject.rfc4514_string()
    )
    forger = MarkIssuer("Forger")
    # An intermediate that names DigiCert's root as its issuer (and its key identifier), but
    # is signed with our own key: the lookup finds the real root, the signature check fails.
    forger.intermediate = _ca_certificate(
        _name("Fake DigiCert Intermediate"),
        forger.intermediate_key,
        digicert.subject,
        forger.root_key,
        authority_key=digicert.public_key(),  # type: ignore[arg-type]
    )
    report = check_mark_certificate(
        forger.pem(forger.issue()),
        domain="example.test",
        selector="default",
        now=NOW,
        anchors=bundled_roots(),
        logo=SVG,
    )
    assert codes(report) == ["chain"]
    assert "DigiCert Verified Mark Root CA" in report.problems[0].detail


@pytest.mark.parametrize(
    ("moment", "code"),
    [(NOW + timedelta(days=400), "expired"), (NOW - timedelta(days=60), "not_yet_valid")],
)
def test_leaf_outside_its_validity_period_is_reported(
    issuer: MarkIssuer, moment: datetime, code: str
) -> None:
    assert code in codes(check(issuer.pem(issuer.issue()), issuer, now=moment))


@pytest.mark.parametrize(
    "eku",
    [(), (x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,)],
    ids=["no-eku", "tls-server-eku"],
)
def test_certificate_without_the_bimi_eku_is_not_a_mark_certificate(
    issuer: MarkIssuer, eku: tuple[ObjectIdentifier, ...]
) -> None:
    assert codes(check(issuer.pem(issuer.issue(eku=eku)), issuer)) == ["eku"]


@pytest.mark.parametrize(
    ("names", "ok"),
    [
        (("example.test",), True),
        (("default._bimi.example.test",), True),
        (("Example.Test.",), True),
        (("other.test", "www.example.test"), False),
    ],
)
def test_san_must_name_the_domain_or_the_bimi_record(
    issuer: MarkIssuer, names: tuple[str, ...], ok: bool
) -> None:
    report = check(issuer.pem(issuer.issue(names=names)), issuer)
    assert codes(report) == ([] if ok else ["domain"])


@pytest.mark.parametrize(
    ("mark_type", "kind", "problems"),
    [
        ("Registered Mark", "VMC", []),
        ("Government Mark", "VMC", []),
        ("Prior Use Mark", "CMC", []),
        ("Modified Registered Mark", "CMC", []),
        ("Famous Mark", None, ["mark_type"]),
        (None, "VMC", []),
    ],
)
def test_mark_type_decides_vmc_or_cmc(
    issuer: MarkIssuer, mark_type: str | None, kind: str | None, problems: list[str]
) -> None:
    report = check(issuer.pem(issuer.issue(mark_type=mark_type)), issuer)
    assert (report.kind, codes(report)) == (kind, problems)


@pytest.mark.parametrize(
    "extension",
    [
        logotype_extension(explicit=True),
        logotype_extension(hashed=SVG),
        logotype_extension(hash_oid=SHA1_OID),
    ],
    ids=["explicit-tagging", "hash-of-uncompressed-svg", "sha1"],
)
def test_logotype_variants_issuers_use_are_accepted(issuer: MarkIssuer, extension: bytes) -> None:
    report = check(issuer.pem(issuer.issue(logotype=extension)), issuer)
    assert codes(report) == []
    assert report.logo == SVG


@pytest.mark.parametrize(
    ("extension", "detail"),
    [
        (logotype_extension(hashed=b"something else"), "does not match"),
        (logotype_extension(uri="https://example.test/logo.svg"), "no data: URI"),
        (logotype_extension(uri="data:image/svg+xml;base64,@@@"), "not valid base64"),
        (logotype_extension(media_type="image/png"), "no image/svg+xml"),
        (der(0x30, der(0xA2, der(0xA0, b"\x30\x05\x01"))), "malformed"),
    ],
    ids=["hash-mismatch", "not-data-uri", "bad-base64", "not-svg", "truncated-der"],
)
def test_unusable_embedded_logo_is_reported(
    issuer: MarkIssuer, extension: bytes, detail: str
) -> None:
    report = check(issuer.pem(issuer.issue(logotype=extension)), issuer)
    assert codes(report) == ["logo_invalid"]
    assert detail in report.problems[0].detail


def test_certificate_without_logotype_has_no_logo(issuer: MarkIssuer) -> None:
    report = check(issuer.pem(issuer.issue(with_logotype=False)), issuer)
    assert codes(report) == ["logo_missing"]


def test_logo_at_l_must_equal_the_embedded_one(issuer: MarkIssuer) -> None:
    other = SVG.replace(b"#0067b9", b"#ff0000")
    report = check(issuer.pem(issuer.issue()), issuer, logo=other)
    assert codes(report) == ["logo_mismatch"]
    assert hashlib.sha256(other).hexdigest()[:16] in report.problems[0].detail


@pytest.mark.parametrize(
    "document",
    [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
)
def test_documents_that_are_not_pem_chains_are_reported(
    issuer: MarkIssuer, document: bytes
) -> None:
    assert codes(check(document, issuer)) == ["parse"]
