"""The HTTP/1.1 response reader behind MTA-STS and BIMI fetches, on well-formed and hostile
responses (the server is someone else's; nothing it sends may crash or exhaust a check)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todoke.domains.checks.https_fetch import FetchError, read_response

URL = "https://mta-sts.example.test/.well-known/mta-sts.txt"


def read(raw: bytes, limit: int = 1000) -> tuple[int, dict[str, str], bytes]:
    async def go() -> tuple[int, dict[str, str], bytes]:
        reader = asyncio.StreamReader(limit=16 * 1024)
        reader.feed_data(raw)
        reader.feed_eof()
        return await read_response(reader, URL, limit)

    return asyncio.run(go())


def problem(raw: bytes, limit: int = 1000) -> str:
    with pytest.raises(FetchError) as caught:
        read(raw, limit)
    return caught.value.problem


def test_content_length_body_and_headers_are_read() -> None:
    status, headers, body = read(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 5\r\n\r\nhello and more"
    )
    assert (status, headers["content-type"], body) == (200, "text/plain; charset=utf-8", b"hello")


def test_chunked_body_with_extensions_and_trailers_is_joined() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nversi\r\n3\r\non:\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    assert read(raw)[2] == b"version:"


def test_body_without_length_runs_to_the_close() -> None:
    assert read(b"HTTP/1.0 200 OK\n\nline one\nline two\n")[2] == b"line one\nline two\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"HTTP/1.1 301 Moved\r\nLocation: https://elsewhere.test/\r\n\r\n", "redirect"),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "status"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", "too_large"),
        (b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 2000, "too_large"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n", "too_large"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n", "protocol"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", "protocol"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", "protocol"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "protocol"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 20000 + b"\r\n\r\n", "protocol"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 101 + b"\r\n", "protocol"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain", "protocol"),
    ],
    ids=[
        "redirect", "404", "declared-too-large", "streamed-too-large", "chunk-too-large",
        "negative-chunk", "bad-length", "not-http", "bad-header", "long-header",
        "too-many-headers", "cut-off-head",
    ],
)  # fmt: skip
def test_bad_responses_are_named(raw: bytes, expected: str) -> None:
    assert problem(raw) == expected


def test_short_body_is_a_broken_connection() -> None:
    with pytest.raises(asyncio.IncompleteReadError):
        read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_responses_end_in_a_result_or_a_named_error(raw: bytes) -> None:
    try:
        status, _, body = read(b"HTTP/1.1 200 OK\r\n" + raw, limit=100)
    except FetchError as error:
        outcome = error.problem
    except asyncio.IncompleteReadError:
        outcome = "protocol"  # fetch() reports a connection that broke off as such
    else:
        outcome = "ok"
        assert (status, len(body) <= 100) == (200, True)
    assert outcome in ("ok", "protocol", "too_large")
