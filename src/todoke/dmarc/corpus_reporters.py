"""Who sends DMARC aggregate reports, as the corpus generator models them (the senders of mail
are in `corpus_senders`).

Each reporter carries the quirks real receivers have (schema, report-id style, file naming, how
the report is packed, which optional fields it fills).
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass
from typing import Literal

Schema = Literal["rfc7489", "rfc7489-noversion", "rfc9990", "draft"]
Container = Literal["xml", "gz", "zip"]
#: utc_day: 00:00:00-23:59:59 UTC; utc_day_exclusive: end is the next midnight (Microsoft);
#: jst_day: the day in Japan time (UTC+9); rolling: a 24 h window from an arbitrary second;
#: multi_day: two to seven days in one report (small reporters that batch)
RangeStyle = Literal["utc_day", "utc_day_exclusive", "jst_day", "rolling", "multi_day"]
ReportIdStyle = Literal[
    "digits20",
    "digits9",
    "hex32",
    "uuid",
    "yahoo",
    "ocn",
    "message_id",
    "upper_hex",
    "opendmarc",
    "shared_run",
]


@dataclass(frozen=True, slots=True)
class Reporter:
    org_name: str
    #: the receiver's domain as it appears first in report file names
    receiver: str
    email: str
    extra_contact_info: str | None
    #: relative share of the organisation's mail this receiver sees
    volume: float
    #: how likely it is to send a report for a given domain and day
    reach: float
    schema: Schema
    report_id: ReportIdStyle
    container: Container
    #: share of reports that arrive as an email with the report attached (RFC 7489 §7.2.1.1)
    eml_share: float
    range_style: RangeStyle
    #: "" writes the whole document on one line
    indent: str = "  "
    name_has_id: bool = False
    envelope_from: bool = True
    envelope_to: str | None = None
    spf_scope: bool = False
    #: report every DKIM signature, not only the one that mattered
    all_dkim: bool = True
    #: also report the HELO identity's SPF result
    helo_spf: bool = False
    upper_results: bool = False
    #: RFC 9990 allows "pass" as the disposition of mail that passed DMARC
    pass_disposition: bool = False
    human_results: bool = False
    generator: str | None = None
    xml_declaration: str = '<?xml version="1.0" encoding="UTF-8" ?>'
    root_attributes: str = ""


def make_report_id(style: ReportIdStyle, rng: random.Random, begin: int, reporter: str) -> str:
    if style == "digits20":
        return str(rng.randrange(10**19, 10**20))
    if style == "digits9":
        return str(rng.randrange(10**8, 10**9))
    if style == "hex32":
        return f"{rng.getrandbits(128):032x}"
    if style == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if style == "yahoo":
        return f"{begin + rng.randrange(3600, 7200)}.{rng.randrange(100000, 999999)}"
    if style == "ocn":
        return f"{begin}.{rng.randrange(1000, 9999)}@ocn.ne.jp"
    if style == "message_id":
        # Angle brackets in a report id must survive XML escaping and file naming.
        return f"<{rng.getrandbits(64):016x}.{begin}@{reporter}>"
    if style == "upper_hex":
        return f"HOSHI-{rng.getrandbits(48):012X}"
    if style == "shared_run":
        # Some small reporters name a report after the reporting run alone, so every domain
        # reported in that run gets the same id: only (org, id, domain) identifies a report.
        return f"{reporter}:{begin + 60 + zlib.crc32(f'{reporter}{begin}'.encode()) % 840}"
    # OpenDMARC style: the reporting host and the second the report was made
    return f"{reporter}:{begin + rng.randrange(60, 86400)}"


MAJOR_REPORTERS: tuple[Reporter, ...] = (
    Reporter(
        org_name="google.com",
        receiver="google.com",
        email="noreply-dmarc-support@google.com",
        extra_contact_info="https://support.google.com/a/answer/2466580",
        volume=10.0,
        reach=60.0,
        schema="rfc7489",
        report_id="digits20",
        container="zip",
        eml_share=0.8,
        range_style="utc_day",
        envelope_from=False,
    ),
    Reporter(
        org_name="Enterprise Outlook",
        receiver="enterprise.protection.outlook.com",
        email="dmarcreport@microsoft.com",
        extra_contact_info=None,
        volume=6.0,
        reach=50.0,
        schema="rfc7489",
        report_id="hex32",
        container="gz",
        eml_share=0.6,
        range_style="utc_day_exclusive",
        indent="",
        envelope_to="customer.example",
        spf_scope=True,
        xml_declaration='<?xml version="1.0"?>',
        root_attributes=(
            ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ),
    ),
    Reporter(
        org_name="Outlook.com",
        receiver="protection.outlook.com",
        email="dmarcreport@microsoft.com",
        extra_contact_info=None,
        volume=3.0,
        reach=40.0,
        schema="rfc7489",
        report_id="hex32",
        container="gz",
        eml_share=0.6,
        range_style="utc_day_exclusive",
        indent="",
        envelope_to="hotmail.com",
        spf_scope=True,
        xml_declaration='<?xml version="1.0"?>',
    ),
    Reporter(
        org_name="Yahoo",
        receiver="yahoo.com",
        email="dmarchelp@yahooinc.com",
        extra_contact_info=None,
        volume=4.0,
        reach=40.0,
        schema="rfc7489",
        report_id="yahoo",
        container="gz",
        eml_share=0.5,
        range_style="rolling",
        all_dkim=False,
    ),
    Reporter(
        org_name="Mail.Ru",
        receiver="mail.ru",
        email="dmarc_support@corp.mail.ru",
        extra_contact_info="http://help.mail.ru/mail-help",
        volume=0.8,
        reach=12.0,
        schema="rfc7489-noversion",
        report_id="digits20",
        container="gz",
        eml_share=0.5,
        range_style="utc_day",
        helo_spf=True,
        spf_scope=True,
    ),
    Reporter(
        org_name="FastMail Pty Ltd",
        receiver="fastmail.com",
        email="reports@fastmaildmarc.com",
        extra_contact_info="https://fastmail.com/",
        volume=0.7,
        reach=10.0,
        schema="rfc9990",
        report_id="digits9",
        container="gz",
        eml_share=0.4,
        range_style="utc_day",
        indent="\t",
        name_has_id=True,
        envelope_to="fastmail.fm",
        spf_scope=True,
        human_results=True,
        generator="FastMail DMARC Reporter 2.3",
        xml_declaration='<?xml version="1.0"?>',
    ),
    Reporter(
        org_name="comcast.net",
        receiver="comcast.net",
        email="dmarc_support@comcast.net",
        extra_contact_info="https://postmaster.comcast.net",
        volume=1.2,
        reach=15.0,
        schema="rfc7489",
        report_id="uuid",
        container="gz",
        eml_share=0.3,
        range_style="utc_day",
        envelope_from=False,
    ),
    Reporter(
        org_name="NTT Communications",
        receiver="ocn.ne.jp",
        email="dmarc-report@ocn.ad.jp",
        extra_contact_info="https://www.ocn.ne.jp/",
        volume=2.0,
        reach=25.0,
        schema="rfc7489-noversion",
        report_id="ocn",
        container="xml",
        eml_share=1.0,
        range_style="jst_day",
    ),
    Reporter(
        org_name="KDDI Corporation",
        receiver="au.com",
        email="dmarc-noreply@dmarc.kddi.com",
        extra_contact_info=None,
        volume=2.0,
        reach=25.0,
        schema="rfc7489",
        report_id="message_id",
        container="zip",
        eml_share=0.7,
        range_style="jst_day",
        name_has_id=True,
    ),
    Reporter(
        org_name="mailbox.org",
        receiver="mailbox.org",
        email="dmarc-reports@mailbox.org",
        extra_contact_info=None,
        volume=0.3,
        reach=6.0,
        schema="rfc9990",
        report_id="uuid",
        container="xml",
        eml_share=0.5,
        range_style="utc_day",
        pass_disposition=True,
        human_results=True,
        generator="mailbox.org dmarc-reporter 1.0",
    ),
    Reporter(
        org_name="Hoshi Hosting",
        receiver="mx.hoshi-hosting.example.net",
        email="postmaster@hoshi-hosting.example.net",
        extra_contact_info="Hoshi Hosting <support@hoshi-hosting.example.net> & NOC",
        volume=0.2,
        reach=5.0,
        schema="rfc7489",
        report_id="upper_hex",
        container="zip",
        eml_share=0.5,
        range_style="jst_day",
        upper_results=True,
    ),
    Reporter(
        org_name="acme.example.org",
        receiver="acme.example.org",
        email="noreply-dmarc-support@acme.example.org",
        extra_contact_info="http://acme.example.org/dmarc/support",
        volume=0.15,
        reach=3.0,
        schema="draft",
        report_id="digits20",
        container="xml",
        eml_share=0.3,
        range_style="multi_day",
        envelope_from=False,
        all_dkim=False,
    ),
)


def long_tail(count: int) -> tuple[Reporter, ...]:
    """Small receivers running OpenDMARC-style reporters: no <version>, few rows each."""
    reporters = []
    for n in range(count):
        receiver = f"mx{n + 1}.isp{n + 1:02d}.example.net"
        reporters.append(
            Reporter(
                org_name=receiver,
                receiver=receiver,
                email=f"noreply-dmarc@{receiver}",
                extra_contact_info=None,
                volume=0.08,
                reach=1.0,
                schema="rfc7489-noversion",
                report_id="shared_run" if n % 3 == 0 else "opendmarc",
                container=("xml", "gz", "zip")[n % 3],
                eml_share=0.6,
                range_style="multi_day" if n % 9 == 0 else "utc_day",
            )
        )
    return tuple(reporters)
