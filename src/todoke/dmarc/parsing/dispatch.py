"""One input file in, every report found in it out: format detection, container recursion,
and the rule that one bad member costs only that member."""

from __future__ import annotations

from todoke.dmarc.parsing.aggregate import parse_aggregate
from todoke.dmarc.parsing.containers import gunzip, zip_members
from todoke.dmarc.parsing.detect import sniff
from todoke.dmarc.parsing.errors import FileError, ParseOutcome, ParseRefused
from todoke.dmarc.parsing.limits import DEFAULT_LIMITS, Budget, ParseLimits
from todoke.dmarc.parsing.mime import read_email
from todoke.dmarc.parsing.tls import parse_tls
from todoke.i18n import N_

_CONTAINERS = ("gzip", "zip", "email")


class _Walk:
    def __init__(self, limits: ParseLimits, outcome: ParseOutcome) -> None:
        self.limits = limits
        self.budget = Budget(limits)
        self.outcome = outcome

    def parse(self, data: bytes, name: str, depth: int) -> None:
        try:
            self._parse(data, name, depth)
        except ParseRefused as refused:
            self.outcome.errors.append(refused.at(name))

    def _parse(self, data: bytes, name: str, depth: int) -> None:
        kind = sniff(data)
        if kind in _CONTAINERS and depth >= self.limits.max_nesting:
            raise ParseRefused(
                "input.too_deep",
                N_("The %(kind)s container is nested more than %(levels)s levels deep."),
                kind=kind,
                levels=self.limits.max_nesting,
            )
        if kind == "gzip":
            self._parse(gunzip(data, self.budget), name, depth + 1)
        elif kind == "zip":
            for member, content in zip_members(data, self.budget, self.limits.max_archive_members):
                if isinstance(content, ParseRefused):
                    self.outcome.errors.append(content.at(f"{name}!{member}"))
                else:
                    self.parse(content, f"{name}!{member}", depth + 1)
        elif kind == "email":
            contents = read_email(data, name, self.budget, self.limits.max_archive_members)
            if contents.failure is not None:
                self.outcome.reports.append(contents.failure)
            for attachment in contents.attachments:
                self.parse(attachment.payload, attachment.name, depth + 1)
        elif kind == "xml":
            self.outcome.reports.append(parse_aggregate(data, max_records=self.limits.max_records))
        elif kind == "json":
            self.outcome.reports.append(parse_tls(data))
        elif kind == "empty":
            raise ParseRefused("input.empty", N_("The file is empty."))
        else:
            raise ParseRefused(
                "input.unknown_format",
                N_(
                    "The content is not XML, JSON, gzip, zip or an email message (it starts "
                    "with %(start)s)."
                ),
                start=data[:8].hex(" "),
            )


def parse_report_bytes(
    data: bytes, *, name: str, limits: ParseLimits = DEFAULT_LIMITS
) -> ParseOutcome:
    """Every DMARC aggregate, DMARC failure and SMTP TLS report in one input file.

    Never raises for bad input: each unreadable file, member or part becomes a FileError, and
    whatever else the input holds is still returned.
    """
    outcome = ParseOutcome()
    if len(data) > limits.max_input_bytes:
        outcome.errors.append(
            FileError(
                name,
                "input.too_large",
                N_("The file is %(size)s bytes, over the limit of %(limit)s."),
                {"size": len(data), "limit": limits.max_input_bytes},
            )
        )
        return outcome
    _Walk(limits, outcome).parse(data, name, 0)
    return outcome
