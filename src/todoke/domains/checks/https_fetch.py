"""Fetch one HTTPS document for a check: the MTA-STS policy, a BIMI logo, a mark certificate.

The host is resolved through the check's shared DNS cache, never the system resolver, so a check
sees the same DNS as every other section (and tests can serve the names). The certificate must be
valid for the host (SNI and name check on); redirects are reported, not followed, because
RFC 8461 §3.3 forbids following them for MTA-STS and a logo or certificate that moved is worth
telling the domain owner about. The whole exchange is bounded by `HttpsOptions.timeout` and the
body by `max_bytes`, so a hostile server cannot hold a check or fill memory.
"""

from __future__ import annotations

import asyncio
import ssl
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit

from todoke.domains.checks.context import HttpsOptions
from todoke.domains.spf.lookup import DnsCache, DnsLookupError, InvalidDomainName, IPAddress

FetchProblem = Literal[
    "url",
    "dns",
    "connect",
    "certificate",
    "tls",
    "timeout",
    "redirect",
    "status",
    "too_large",
    "content_type",
    "protocol",
]

USER_AGENT: Final = "todoke-domain-check/1"
_MAX_HEADER_LINE: Final = 16 * 1024
_MAX_HEADERS: Final = 100
_CHUNK: Final = 64 * 1024


class FetchError(Exception):
    """The document could not be fetched; `problem` says which step failed."""

    def __init__(self, url: str, problem: FetchProblem, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.problem = problem
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    #: the address that answered, for the evidence
    address: str
    status: int
    #: the media type without parameters, lower-cased ("" when the server sent none)
    media_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class _Target:
    url: str
    host: str
    port: int
    path: str


async def fetch(
    dns: DnsCache,
    options: HttpsOptions,
    url: str,
    *,
    media_types: tuple[str, ...] = (),
    max_bytes: int | None = None,
) -> Fetched:
    """GET `url` (https only); a FetchError names what went wrong.

    `media_types` lists the acceptable Content-Type values (any when empty); `max_bytes`
    tightens `options.max_bytes` for documents with a smaller limit of their own.
    """
    target = _target(url, options.port)
    addresses = await _addresses(dns, target)
    limit = min(options.max_bytes, max_bytes) if max_bytes else options.max_bytes
    try:
        async with asyncio.timeout(options.timeout):
            fetched = await _first_answer(target, addresses, _tls_context(options.ca_file), limit)
    except TimeoutError:
        raise FetchError(
            url, "timeout", f"no complete answer within {options.timeout:g} s"
        ) from None
    if media_types and fetched.media_type not in media_types:
        got = fetched.media_type or "no Content-Type"
        raise FetchError(url, "content_type", f"served as {got}, expected {media_types[0]}")
    return fetched


def _target(url: str, default_port: int) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise FetchError(url, "url", f"not a valid URL: {error}") from None
    if parts.scheme.lower() != "https":
        raise FetchError(url, "url", "only https:// URLs can be fetched")
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.username is not None:
        raise FetchError(url, "url", "the URL needs a host name and no user name")
    if any(ord(char) < 0x21 or ord(char) > 0x7E for char in url):
        raise FetchError(url, "url", "the URL contains spaces or characters outside ASCII")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(url=url, host=host, port=port or default_port, path=path)


async def _addresses(dns: DnsCache, target: _Target) -> list[IPAddress]:
    found: list[IPAddress] = []
    failures: list[str] = []
    for version in (4, 6):
        try:
            found += (await dns.addresses(target.host, version)).values
        except DnsLookupError as error:
            failures.append(str(error))
        except InvalidDomainName as error:
            raise FetchError(target.url, "url", str(error)) from None
    if not found:
        reason = "; ".join(failures) or f"{target.host} has no A or AAAA record"
        raise FetchError(target.url, "dns", reason)
    return found


@lru_cache(maxsize=8)
def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


async def _first_answer(
    target: _Target, addresses: list[IPAddress], context: ssl.SSLContext, limit: int
) -> Fetched:
    """Try each address in turn; only a refused or unreachable connection moves on."""
    last: FetchError | None = None
    for address in addresses:
        try:
            return await _get(target, str(address), context, limit)
        except OSError as error:
            last = FetchError(target.url, "connect", f"cannot connect to {address}: {error}")
    assert last is not None  # addresses is never empty
    raise last


async def _get(target: _Target, address: str, context: ssl.SSLContext, limit: int) -> Fetched:
    try:
        reader, writer = await asyncio.open_connection(
            address, target.port, ssl=context, server_hostname=target.host, limit=_MAX_HEADER_LINE
        )
    except ssl.SSLCertVerificationError as error:
        reason = error.verify_message or error.reason or str(error)
        raise FetchError(target.url, "certificate", f"certificate not valid: {reason}") from None
    except ssl.SSLError as error:
        raise FetchError(target.url, "tls", f"TLS handshake failed: {error.reason}") from None
    try:
        writer.write(_request(target))
        await writer.drain()
        status, headers, body = await read_response(reader, target.url, limit)
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError) as error:
        raise FetchError(target.url, "protocol", f"connection broke off: {error}") from None
    finally:
        # abort(), not close(): the body is read (or given up on), and a graceful TLS shutdown
        # would outlive the check waiting for a peer that may never answer.
        writer.transport.abort()
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return Fetched(target.url, address, status, media_type, body)


def _request(target: _Target) -> bytes:
    host = target.host if target.port == 443 else f"{target.host}:{target.port}"
    lines = (
        f"GET {target.path} HTTP/1.1",
        f"Host: {host}",
        f"User-Agent: {USER_AGENT}",
        "Accept: */*",
        "Accept-Encoding: identity",
        "Connection: close",
    )
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


async def read_response(
    reader: asyncio.StreamReader, url: str, limit: int
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (names lower-cased) and body of an HTTP/1.1 response; only 200 is
    accepted, and the body is bounded by `limit` (Content-Length, chunked, or to the close)."""
    status, headers = await _read_head(reader, url)
    _check_status(url, status, headers)
    return status, headers, await _read_body(reader, headers, limit, url)


async def _line(reader: asyncio.StreamReader, url: str) -> str:
    try:
        raw = await reader.readline()
    except (asyncio.LimitOverrunError, ValueError):
        raise FetchError(url, "protocol", "a response header line is too long") from None
    if not raw.endswith(b"\n"):
        raise FetchError(url, "protocol", "the connection closed inside the response header")
    return raw.rstrip(b"\r\n").decode("latin-1")


async def _read_head(reader: asyncio.StreamReader, url: str) -> tuple[int, dict[str, str]]:
    status_line = await _line(reader, url)
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise FetchError(url, "protocol", f"not an HTTP/1.x response: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = await _line(reader, url)
        if not line:
            return int(code), headers
        name, separator, value = line.partition(":")
        if not separator:
            raise FetchError(url, "protocol", f"malformed header line {line[:80]!r}")
        key = name.strip().lower()
        # Repeated headers join with commas (RFC 9110 §5.3); enough for the ones we read.
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    raise FetchError(url, "protocol", f"more than {_MAX_HEADERS} response headers")


def _check_status(url: str, status: int, headers: dict[str, str]) -> None:
    if status == 200:
        return
    if 300 <= status < 400:
        location = headers.get("location", "?")
        raise FetchError(url, "redirect", f"HTTP {status} redirect to {location} (not followed)")
    raise FetchError(url, "status", f"HTTP {status} instead of 200")


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str], limit: int, url: str
) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader, limit, url)
    length_text = headers.get("content-length")
    if length_text is not None:
        if not length_text.isdigit():
            raise FetchError(url, "protocol", f"bad Content-Length {length_text[:40]!r}")
        length = int(length_text)
        if length > limit:
            raise FetchError(url, "too_large", f"{length} bytes, more than the {limit} allowed")
        return await reader.readexactly(length)
    body = bytearray()
    while chunk := await reader.read(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise FetchError(url, "too_large", f"more than the {limit} bytes allowed")
    return bytes(body)


async def _read_chunked(reader: asyncio.StreamReader, limit: int, url: str) -> bytes:
    body = bytearray()
    while True:
        size_text = (await _line(reader, url)).split(";", 1)[0].strip()
        if not size_text or size_text.strip(string.hexdigits):
            raise FetchError(url, "protocol", f"bad chunk size {size_text[:20]!r}")
        size = int(size_text, 16)
        if size == 0:
            while await _line(reader, url):  # trailer fields, ignored
                pass
            return bytes(body)
        if len(body) + size > limit:
            raise FetchError(url, "too_large", f"more than the {limit} bytes allowed")
        body += await reader.readexactly(size)
        if await _line(reader, url):
            raise FetchError(url, "protocol", "chunk data longer than its size")
