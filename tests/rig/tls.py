"""A certificate authority made fresh for each test session, so TLS is tested with verification on.

EC P-256 keys: valid for every TLS stack we talk to and generated in microseconds, where RSA-2048
would add a noticeable pause to each issued certificate.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Backdated so a peer whose clock runs a little behind still accepts the certificate.
_CLOCK_SKEW = timedelta(hours=1)
_VALIDITY = timedelta(days=7)
DEFAULT_SERVER_NAMES = ("localhost", "127.0.0.1", "mx.example.test")


@dataclass(frozen=True)
class IssuedCertificate:
    """A server certificate and its key as PEM files, for servers that load from paths."""

    names: tuple[str, ...]
    cert_path: Path
    key_path: Path


class CertificateAuthority:
    """A throwaway CA whose root is written to `cert_path` for clients to trust."""

    def __init__(self, directory: Path, common_name: str = "Todoke Test CA") -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.now(UTC)
        public_key = self._key.public_key()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = directory / "ca.pem"
        self.key_path = directory / "ca.key"
        self.cert_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self.key_path.write_bytes(_private_pem(self._key))
        self._issued: dict[tuple[str, ...], IssuedCertificate] = {}

    def issue(
        self, names: Sequence[str] = DEFAULT_SERVER_NAMES, *, directory: Path | None = None
    ) -> IssuedCertificate:
        """Issue a server certificate for DNS names and IP addresses, reusing an earlier one."""
        if not names:
            raise ValueError("a server certificate needs at least one DNS name or IP address")
        key_names = tuple(names)
        if key_names in self._issued and directory is None:
            return self._issued[key_names]
        issued = self._issue(key_names, directory or self.directory)
        if directory is None:
            self._issued[key_names] = issued
        return issued

    def server_context(self, issued: IssuedCertificate | None = None) -> ssl.SSLContext:
        """A server-side context presenting `issued` (default: localhost and mx.example.test)."""
        issued = issued or self.issue()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(issued.cert_path, issued.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this CA and checks host names, like production."""
        return ssl.create_default_context(cafile=str(self.cert_path))

    def _issue(self, names: tuple[str, ...], directory: Path) -> IssuedCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        ca_ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.SubjectAlternativeName(_general_names(names)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            # Python 3.13 turns on VERIFY_X509_STRICT by default, which rejects leaves
            # without SKI/AKI; include them so the rig keeps working there.
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9.-]", "_", names[0]) + f"-{certificate.serial_number:x}"[:13]
        issued = IssuedCertificate(
            names=names, cert_path=directory / f"{stem}.pem", key_path=directory / f"{stem}.key"
        )
        issued.cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        issued.key_path.write_bytes(_private_pem(key))
        return issued


def _general_names(names: Sequence[str]) -> list[x509.GeneralName]:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return general


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
