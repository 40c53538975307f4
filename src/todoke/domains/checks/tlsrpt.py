"""SMTP TLS Reporting (RFC 8460): the `_smtp._tls` TXT record that says where reports go.

Without it, senders that fail to deliver over TLS (an expired MX certificate, an MTA-STS
mismatch) have no one to tell; with it, the domain owner hears of TLS trouble before mail is lost.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote, urlsplit

from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.findings import Finding, Status
from todoke.domains.checks.mta_sts_record import (
    RecordError,
    select,
    split_fields,
    txt_records,
)

SECTION: Final = "tlsrpt"
VERSION: Final = "v=TLSRPTv1"

FINDINGS: Final[dict[str, frozenset[str]]] = {
    "missing": frozenset({"name"}),
    "several": frozenset({"name", "count"}),
    "invalid": frozenset({"name", "reason"}),
    "ok": frozenset({"name", "rua"}),
    "dns_error": frozenset({"name", "rdtype", "reason"}),
}


def _finding(
    kind: str, status: Status, evidence: tuple[str, ...], /, **values: str | int
) -> Finding:
    return Finding(id=f"{SECTION}.{kind}", status=status, values=values, evidence=evidence)


async def check(context: CheckContext) -> list[Finding]:
    name = f"_smtp._tls.{context.domain}"
    texts = await txt_records(context, name)
    if not texts:
        return [_finding("missing", Status.INFO, (), name=name)]
    chosen = select(texts, VERSION)
    if len(chosen) > 1:
        # RFC 8460 §3: more than one record means senders assume no TLS-RPT at all.
        return [_finding("several", Status.FAIL, texts, name=name, count=len(chosen))]
    try:
        rua = parse_tlsrpt_record(chosen[0] if chosen else texts[0])
    except RecordError as error:
        return [_finding("invalid", Status.FAIL, texts, name=name, reason=str(error))]
    return [_finding("ok", Status.PASS, texts, name=name, rua=", ".join(rua))]


def parse_tlsrpt_record(text: str) -> tuple[str, ...]:
    """The `rua` destinations of a `v=TLSRPTv1` record, or RecordError saying what is wrong."""
    fields = split_fields(text, VERSION, free_form=("rua",))
    rua = [value for name, value in fields if name == "rua"]
    if not rua:
        raise RecordError("the rua field is missing (rua=mailto:... or rua=https://...)")
    if len(rua) > 1:
        raise RecordError("the rua field is given more than once; list the URIs with commas")
    uris = tuple(part.strip(" \t") for part in rua[0].split(","))
    for uri in uris:
        _check_uri(uri)
    return uris


def _check_uri(uri: str) -> None:
    if not uri:
        raise RecordError("rua has an empty entry between commas")
    if "!" in uri:
        # A "!10m" size limit is DMARC syntax; RFC 8460 §3 wants "!" percent-encoded.
        raise RecordError(f"{uri!r}: '!' must be percent-encoded (size limits are DMARC syntax)")
    if any(ord(char) <= 0x20 or ord(char) >= 0x7F for char in uri):
        raise RecordError(f"{uri!r} contains spaces or characters outside ASCII")
    scheme, _, rest = uri.partition(":")
    if scheme.lower() == "mailto":
        address = unquote(rest.split("?", 1)[0])
        local, at, domain = address.rpartition("@")
        if not at or not local or "." not in domain or domain.startswith("."):
            raise RecordError(f"{uri!r} is not mailto: followed by an email address")
        return
    if scheme.lower() == "https":
        try:
            host = urlsplit(uri).hostname
        except ValueError:
            host = None
        if not host or "." not in host:
            raise RecordError(f"{uri!r} is not an https:// URL with a host name")
        return
    raise RecordError(f"{uri!r}: only mailto: and https: destinations are defined (RFC 8460 §3)")
