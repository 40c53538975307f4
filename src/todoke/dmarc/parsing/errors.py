"""What a parse returns besides reports: one error per input file or archive member."""

from __future__ import annotations

from dataclasses import dataclass, field

from todoke.dmarc.report_types import ParsedReport


@dataclass(frozen=True, slots=True)
class FileError:
    """Why one input (or one member of it) could not be read.

    ``file`` is the input name, plus ``!member`` for archive members and ``!part-N.ext`` for
    MIME parts; ``code`` is a stable identifier for programs; ``message`` is one English
    sentence for people.
    """

    file: str
    code: str
    message: str


@dataclass(slots=True)
class ParseOutcome:
    reports: list[ParsedReport] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


class ParseRefused(Exception):
    """Raised inside the parsers for bad input; turned into a FileError at the boundary."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
