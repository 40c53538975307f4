"""gzip and zip, inflated under a budget.

Both are decompressed in bounded steps (zlib's ``max_length``, zipfile reads of a fixed size) and
every step is charged to the input's Budget *before* it is kept, so a bomb costs at most the cap
plus one step of memory and is refused as soon as the cap is reached.
"""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator

from todoke.dmarc.parsing.errors import ParseRefused
from todoke.dmarc.parsing.limits import Budget
from todoke.i18n import N_

_GZIP_TOO_LARGE = N_(
    "The gzip data decompresses to more than the limit of %(limit)s bytes for one input file."
)
_ZIP_TOO_LARGE = N_(
    "The zip archive decompresses to more than the limit of %(limit)s bytes for one input file."
)
_IN_CHUNK = 64 * 1024
_OUT_CHUNK = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_CENTRAL_ENTRY = b"PK\x01\x02"
#: an EOCD record is 22 bytes plus a comment of at most 65,535 (APPNOTE 4.3.16)
_EOCD_SEARCH = 22 + 65_535
_ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    struct.error,
)


def _inflate_member(
    stream: zlib._Decompress, data: memoryview, start: int, out: bytearray, budget: Budget
) -> int:
    """Inflate one gzip member from ``start``; return where the next member would begin."""
    position = start
    while position < len(data) and not stream.eof:
        chunk: bytes = bytes(data[position : position + _IN_CHUNK])
        position += len(chunk)
        while chunk and not stream.eof:
            piece = stream.decompress(chunk, min(_OUT_CHUNK, budget.remaining + 1))
            budget.spend(len(piece), code="gzip.too_large", what=_GZIP_TOO_LARGE)
            out += piece
            chunk = stream.unconsumed_tail
        if stream.eof:
            return position - len(stream.unused_data)
    if not stream.eof:
        raise ParseRefused("gzip.truncated", N_("The gzip data ends before its end marker."))
    return position


def gunzip(data: bytes, budget: Budget) -> bytes:
    """All members of a gzip file (RFC 1952 section 2.2 allows several, concatenated)."""
    out = bytearray()
    view = memoryview(data)
    position = 0
    while True:
        try:
            position = _inflate_member(zlib.decompressobj(wbits=31), view, position, out, budget)
        except zlib.error as error:
            raise ParseRefused(
                "gzip.bad_archive",
                N_("The gzip data is corrupt after %(size)s bytes: %(reason)s."),
                size=len(out),
                reason=str(error),
            ) from None
        # Trailing bytes that do not start another member (often NUL padding) are ignored,
        # as gzip(1) does.
        if bytes(view[position : position + 2]) != _GZIP_MAGIC:
            return bytes(out)


def _central_entry_count(data: bytes, limit: int) -> int | None:
    """Entries in the central directory, counted without building ZipInfo objects (which for a
    crafted archive with millions of entries would itself exhaust memory). Counting stops just
    past ``limit``; None when the directory cannot be located this way."""
    eocd = data.rfind(_EOCD, max(0, len(data) - _EOCD_SEARCH))
    if eocd < 0 or eocd + 22 > len(data):
        return None
    size_cd, offset_cd = struct.unpack_from("<II", data, eocd + 12)
    start = eocd - size_cd
    if size_cd == 0xFFFFFFFF or offset_cd == 0xFFFFFFFF:
        locator = eocd - 20
        if locator < 0 or data[locator : locator + 4] != _ZIP64_LOCATOR:
            return None
        (record,) = struct.unpack_from("<Q", data, locator + 8)
        if record + 56 > len(data):
            return None
        (size_cd64,) = struct.unpack_from("<Q", data, record + 40)
        start = locator - 56 - size_cd64
    count = 0
    position = start
    while position >= 0 and data[position : position + 4] == _CENTRAL_ENTRY and count <= limit:
        if position + 46 > len(data):
            return None
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        position += 46 + name_len + extra_len + comment_len
        count += 1
    return count


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> bytes:
    if info.flag_bits & 0x1:
        raise ParseRefused("zip.encrypted", N_("The zip member is encrypted and cannot be read."))
    if info.file_size > budget.remaining:
        # The declared size is only a hint (it can lie), but an honest bomb stops here at once.
        budget.spend(info.file_size, code="zip.too_large", what=_ZIP_TOO_LARGE)
    out = bytearray()
    try:
        with archive.open(info) as member:
            while piece := member.read(min(_OUT_CHUNK, budget.remaining + 1)):
                budget.spend(len(piece), code="zip.too_large", what=_ZIP_TOO_LARGE)
                out += piece
    except _ZIP_READ_ERRORS as error:
        raise ParseRefused(
            "zip.bad_member",
            N_("The zip member cannot be decompressed: %(reason)s."),
            reason=str(error),
        ) from None
    return bytes(out)


def _open_zip(data: bytes, max_members: int) -> zipfile.ZipFile:
    count = _central_entry_count(data, max_members)
    if count is None:
        # Could not walk the directory ourselves; an upper bound is every entry signature.
        count = data.count(_CENTRAL_ENTRY)
    if count > max_members:
        raise ParseRefused(
            "zip.too_many_members",
            N_("The zip archive has more than %(count)s members."),
            count=max_members,
        )
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_READ_ERRORS as error:
        raise ParseRefused(
            "zip.bad_archive", N_("The zip archive is corrupt: %(reason)s."), reason=str(error)
        ) from None


def zip_members(
    data: bytes, budget: Budget, max_members: int
) -> Iterator[tuple[str, bytes | ParseRefused]]:
    """(member name, content or the reason it could not be read) for each file member.

    A ParseRefused raised (not yielded) concerns the whole archive: it is corrupt, has too many
    members, or has used up the input's decompression budget.
    """
    archive = _open_zip(data, max_members)
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > max_members:
            raise ParseRefused(
                "zip.too_many_members",
                N_("The zip archive has more than %(count)s members."),
                count=max_members,
            )
        for info in members:
            member_name = info.filename.replace("\n", " ")[:200] or "(unnamed)"
            try:
                yield member_name, _read_member(archive, info, budget)
            except ParseRefused as refused:
                if refused.code == "zip.too_large":
                    raise
                yield member_name, refused
