"""Aggregate report XML as each reporter writes it: RFC 7489 (with or without <version>), RFC 9990
in the dmarc-2.0 namespace, and the pre-RFC draft layout some small reporters still send.

Plain string building with xml.sax.saxutils escaping: an element tree per report would cost
several times more than the whole rest of the corpus generator.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from todoke.dmarc.corpus_reporters import Reporter
from todoke.dmarc.report_types import AggregateRecord, AggregateReport, PolicyPublished

RFC9990_NAMESPACE = "urn:ietf:params:xml:ns:dmarc-2.0"


class _Writer:
    __slots__ = ("newline", "pad", "parts", "upper")

    def __init__(self, reporter: Reporter) -> None:
        self.pad = [reporter.indent * depth for depth in range(6)]
        self.newline = "\n" if reporter.indent else ""
        self.upper = reporter.upper_results
        self.parts: list[str] = []

    def open(self, depth: int, tag: str) -> None:
        self.parts.append(f"{self.pad[depth]}<{tag}>{self.newline}")

    def close(self, depth: int, tag: str) -> None:
        self.parts.append(f"{self.pad[depth]}</{tag}>{self.newline}")

    def text(self, depth: int, tag: str, value: str | int | None) -> None:
        if value is None:
            return
        if isinstance(value, int):
            text = str(value)
        elif "&" in value or "<" in value or ">" in value:
            text = escape(value)
        else:
            text = value
        self.parts.append(f"{self.pad[depth]}<{tag}>{text}</{tag}>{self.newline}")

    def result(self, depth: int, tag: str, value: str) -> None:
        # One reporter writes PASS/FAIL; RFC 7489 Appendix C defines the values in lower case.
        self.text(depth, tag, value.upper() if self.upper else value)


def _metadata(out: _Writer, report: AggregateReport, reporter: Reporter) -> None:
    out.open(1, "report_metadata")
    out.text(2, "org_name", report.org_name)
    out.text(2, "email", report.email)
    out.text(2, "extra_contact_info", report.extra_contact_info)
    out.text(2, "report_id", report.report_id)
    out.open(2, "date_range")
    out.text(3, "begin", int(report.begin.timestamp()))
    out.text(3, "end", int(report.end.timestamp()))
    out.close(2, "date_range")
    if reporter.schema == "rfc9990":
        out.text(2, "generator", report.generator)
    out.close(1, "report_metadata")


def _policy(out: _Writer, policy: PolicyPublished) -> None:
    out.open(1, "policy_published")
    out.text(2, "domain", policy.domain)
    out.text(2, "adkim", policy.adkim)
    out.text(2, "aspf", policy.aspf)
    out.text(2, "p", policy.p)
    out.text(2, "sp", policy.sp)
    out.text(2, "np", policy.np)
    out.text(2, "pct", policy.pct)
    out.text(2, "fo", policy.fo)
    if policy.testing is not None:
        out.text(2, "testing", "y" if policy.testing else "n")
    out.text(2, "discovery_method", policy.discovery_method)
    out.close(1, "policy_published")


def _record(out: _Writer, record: AggregateRecord, reporter: Reporter) -> None:
    draft = reporter.schema == "draft"
    out.open(1, "record")
    out.open(2, "row")
    out.text(3, "source_ip", record.source_ip)
    out.text(3, "count", record.count)
    out.open(3, "policy_evaluated")
    disposition = record.disposition
    if reporter.pass_disposition and record.dmarc_pass and disposition == "none":
        disposition = "pass"
    out.text(4, "disposition", disposition)
    out.result(4, "dkim", record.dkim_aligned)
    out.result(4, "spf", record.spf_aligned)
    for override in record.overrides:
        out.open(4, "reason")
        out.text(5, "type", override.type)
        out.text(5, "comment", override.comment)
        out.close(4, "reason")
    out.close(3, "policy_evaluated")
    out.close(2, "row")
    out.open(2, "identifiers")
    out.text(3, "envelope_to", record.envelope_to)
    out.text(3, "envelope_from", record.envelope_from)
    out.text(3, "header_from", record.header_from)
    out.close(2, "identifiers")
    out.open(2, "auth_results")
    for dkim in record.dkim:
        out.open(3, "dkim")
        out.text(4, "domain", dkim.domain)
        if not draft:
            out.text(4, "selector", dkim.selector)
        out.result(4, "result", dkim.result)
        if draft:
            out.parts.append(f"{out.pad[4]}<human_result></human_result>{out.newline}")
        else:
            out.text(4, "human_result", dkim.human_result)
        out.close(3, "dkim")
    for spf in record.spf:
        out.open(3, "spf")
        out.text(4, "domain", spf.domain)
        out.text(4, "scope", spf.scope)
        out.result(4, "result", spf.result)
        out.text(4, "human_result", spf.human_result)
        out.close(3, "spf")
    out.close(2, "auth_results")
    out.close(1, "record")


def render_xml(report: AggregateReport, reporter: Reporter) -> str:
    out = _Writer(reporter)
    if reporter.xml_declaration:
        out.parts.append(reporter.xml_declaration + "\n")
    if reporter.schema == "rfc9990":
        out.parts.append(f'<feedback xmlns="{RFC9990_NAMESPACE}">{out.newline}')
    else:
        out.parts.append(f"<feedback{reporter.root_attributes}>{out.newline}")
    if reporter.schema in ("rfc7489", "rfc9990"):
        out.text(1, "version", "1.0")
    _metadata(out, report, reporter)
    _policy(out, report.policy)
    for record in report.records:
        _record(out, record, reporter)
    out.parts.append("</feedback>\n")
    return "".join(out.parts)
