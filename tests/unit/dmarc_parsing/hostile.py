"""Hostile and broken inputs, as bytes, for the report parsers and everything that ingests
reports (uploads, mailbox, SMTP receiver). Each builder is deterministic and cheap to call;
the bombs are built in a streaming way so the test never holds their inflated size.
"""

from __future__ import annotations

import functools
import struct
import zlib

from tests.unit.dmarc_parsing.reports import aggregate_xml, gzipped, record_xml, zipped

GIB = 2**30
_MIB = 2**20


def entity_bomb() -> bytes:
    """ "Billion laughs": ten levels of ten-fold entity references, 10^9 "lol"s if expanded."""
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE feedback [\n' + "\n".join(levels) + "\n]>\n"
        "<feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>"
    ).encode()


def entity_bomb_in_attribute() -> bytes:
    """The same bomb referenced from an attribute value, which parsers expand eagerly."""
    return entity_bomb().replace(b"<feedback>", b'<feedback a="&lol9;">', 1)


def xxe(system_id: str) -> bytes:
    """An external entity: file:///etc/passwd, or http://127.0.0.1:9/ (a port nothing serves)."""
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE feedback [<!ENTITY xxe SYSTEM "{system_id}">]>\n'
        "<feedback><report_metadata><org_name>&xxe;</org_name></report_metadata></feedback>"
    ).encode()


def external_dtd(system_id: str = "http://127.0.0.1:9/report.dtd") -> bytes:
    return aggregate_xml().replace(
        b"<feedback>", f'<!DOCTYPE feedback SYSTEM "{system_id}">\n<feedback>'.encode(), 1
    )


def doctype_after_comment() -> bytes:
    return b'<?xml version="1.0"?><!-- hello --><!DOCTYPE feedback [<!ENTITY a "b">]><feedback/>'


def doctype_utf16() -> bytes:
    return (
        xxe("file:///etc/passwd")
        .decode()
        .replace('"1.0"?>', '"1.0" encoding="UTF-16"?>', 1)
        .encode("utf-16")
    )


@functools.cache
def _zero_deflate(size: int) -> tuple[bytes, int]:
    """Raw deflate data for ``size`` zero bytes (a multiple of 1 MiB) and its CRC-32.

    One MiB of zeros is compressed once and ended with a full flush, which makes the block
    self-contained; repeating it is then a valid stream for any multiple of that MiB.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(_MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    chunk = bytes(8 * _MIB)
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(bytes(size % len(chunk)), crc)
    return block * (size // _MIB) + final, crc


def gzip_bomb(size: int = GIB) -> bytes:
    """A valid gzip file (RFC 1952) inflating to ``size`` zero bytes, about size/1000 long."""
    deflated, crc = _zero_deflate(size)
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\xff"
    return header + deflated + struct.pack("<II", crc, size & 0xFFFFFFFF)


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A deflated zip (APPNOTE 4.3) from (name, raw deflate data, crc, declared size)."""
    local_parts: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, data, crc, size in members:
        encoded = name.encode()
        local = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0
        )
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
        local_parts.append(local + encoded + data)
        offset += len(local) + len(encoded) + len(data)
    directory = b"".join(central)
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), offset, 0
    )
    return b"".join(local_parts) + directory + end


def zip_bomb(size: int = GIB) -> bytes:
    """One member that honestly declares it inflates to ``size`` zero bytes."""
    deflated, crc = _zero_deflate(size)
    return _zip([("report.xml", deflated, crc, size)])


def zip_bomb_lying(size: int = GIB, declared: int = 1000) -> bytes:
    """One member inflating to ``size`` bytes while its headers claim ``declared``."""
    deflated, crc = _zero_deflate(size)
    return _zip([("report.xml", deflated, crc, declared)])


def zip_of_many_megabytes(members: int, size: int = _MIB) -> bytes:
    """Many honest members that together exceed a cap no single one does."""
    deflated, crc = _zero_deflate(size)
    return _zip([(f"part-{index}.xml", deflated, crc, size) for index in range(members)])


def zip_with_too_many_members(members: int) -> bytes:
    deflated, crc = zlib.compress(b"", 9)[2:-4], zlib.crc32(b"")
    return _zip([(f"r{index}.xml", deflated, crc, 0) for index in range(members)])


def nested_zips(depth: int) -> bytes:
    """A valid aggregate report inside ``depth`` levels of zip."""
    data = aggregate_xml()
    for level in range(depth):
        data = zipped({f"level-{level}.zip" if level else "report.xml": data})
    return data


def nested_gzips(depth: int) -> bytes:
    data = aggregate_xml()
    for _ in range(depth):
        data = gzipped(data)
    return data


def truncated_xml() -> bytes:
    report = aggregate_xml(records=[record_xml(), record_xml(source_ip="192.0.2.2")])
    return report[: len(report) * 2 // 3]


def truncated_gzip() -> bytes:
    data = gzipped(aggregate_xml(records=[record_xml()] * 50))
    return data[: len(data) // 2]


def corrupt_gzip() -> bytes:
    data = bytearray(gzipped(aggregate_xml(records=[record_xml()] * 50)))
    data[20:40] = b"\xff" * 20
    return bytes(data)


def corrupt_zip() -> bytes:
    data = zipped({"report.xml": aggregate_xml()})
    return data[:30] + b"\x00" * 20 + data[50:-10]


def invalid_utf8() -> bytes:
    return aggregate_xml(org_name="Bad \xff\xfe bytes".replace("\xff\xfe", "@@")).replace(
        b"@@", b"\xff\xfe"
    )


def wrong_declared_encoding() -> bytes:
    """Declares UTF-16 but is plain ASCII."""
    return aggregate_xml().replace(b'encoding="UTF-8"', b'encoding="UTF-16"', 1)


def unknown_declared_encoding() -> bytes:
    return aggregate_xml().replace(b'encoding="UTF-8"', b'encoding="x-no-such-charset"', 1)


def wrong_root_html() -> bytes:
    return b"<!-- saved page --><html><body><p>Not a report</p></body></html>"


def wrong_root_foo() -> bytes:
    return b'<?xml version="1.0"?><foo><report_metadata/></foo>'


def binary_junk() -> bytes:
    return bytes((index * 73 + 11) % 256 for index in range(4096))


def json_not_tls() -> bytes:
    return b'{"hello": "world", "items": [1, 2, 3]}'


def json_malformed() -> bytes:
    return b'{"organization-name": "x", "policies": [ }'


def json_deeply_nested(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def email_without_report() -> bytes:
    return (
        b"From: someone@example.net\r\nTo: dmarc@example.com\r\nSubject: hello\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nJust saying hi, no report here.\r\n"
    )


def email_deeply_nested(depth: int = 200) -> bytes:
    """Multiparts inside multiparts, deeper than any mail client makes."""
    head = b"From: a@example.net\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    body = b"text"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (
            b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--" + boundary
            + b"\r\n" + body + b"\r\n--" + boundary + b"--\r\n"
        )  # fmt: skip
    return head + body


def empty() -> bytes:
    return b""


def whitespace_only() -> bytes:
    return b" \r\n\t \n"
