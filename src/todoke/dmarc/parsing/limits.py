"""Resource limits for one input file, and the budget that enforces them while decoding.

Reports arrive from strangers (any mailbox provider, any spoofer), so every decoding step is
bounded before memory is spent: a gzip or zip bomb must be refused after at most the cap has
been produced, never after it has been inflated in full.
"""

from __future__ import annotations

from dataclasses import dataclass

from todoke.dmarc.parsing.errors import ParseRefused


@dataclass(frozen=True, slots=True)
class ParseLimits:
    #: one file as read (upload, attachment, mailbox message)
    max_input_bytes: int = 64 * 2**20
    #: total produced by gzip/zip/MIME decoding of ONE input file
    max_decompressed_bytes: int = 256 * 2**20
    max_archive_members: int = 1000
    #: containers inside containers: zip in email in gz ...
    max_nesting: int = 3
    max_records: int = 2_000_000


DEFAULT_LIMITS = ParseLimits()


class Budget:
    """Bytes that decoding may still produce for the current input file."""

    __slots__ = ("limits", "remaining")

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.remaining = limits.max_decompressed_bytes

    def spend(self, size: int, *, code: str, what: str) -> None:
        """`what` is a catalogue template naming the input, with `%(limit)s` for the limit."""
        if size > self.remaining:
            self.remaining = 0
            raise ParseRefused(code, what, limit=self.limits.max_decompressed_bytes)
        self.remaining -= size
