"""What a parse returns besides reports: one error per input file or archive member."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from todoke.core.errors import english
from todoke.dmarc.report_types import ParsedReport


@dataclass(frozen=True, slots=True)
class FileError:
    """Why one input (or one member of it) could not be read.

    ``file`` is the input name, plus ``!member`` for archive members and ``!part-N.ext`` for
    MIME parts; ``code`` is a stable identifier for programs; ``message`` is one English
    sentence for people, kept as its catalogue ``template`` and ``values`` so a page can word
    it in the reader's language.
    """

    file: str
    code: str
    template: str
    values: Mapping[str, object] = field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        return english(self.template, self.values)


@dataclass(slots=True)
class ParseOutcome:
    reports: list[ParsedReport] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


class ParseRefused(Exception):
    """Raised inside the parsers for bad input; turned into a FileError at the boundary."""

    def __init__(self, code: str, template: str, /, **values: object) -> None:
        self.message = english(template, values)
        super().__init__(self.message)
        self.code = code
        self.template = template
        self.values = values

    def at(self, file: str) -> FileError:
        return FileError(file, self.code, self.template, self.values)
