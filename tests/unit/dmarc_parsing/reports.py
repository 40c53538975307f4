"""Builders for valid report inputs (aggregate XML, TLS JSON, containers, report emails),
so each test states only what it is about."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Iterable
from email import encoders
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

RFC9990_NS = "urn:ietf:params:xml:ns:dmarc-2.0"


def record_xml(
    *,
    source_ip: str = "192.0.2.1",
    count: str = "1",
    disposition: str = "none",
    dkim: str = "pass",
    spf: str = "pass",
    header_from: str = "example.com",
    auth: str = "<auth_results><spf><domain>example.com</domain><result>pass</result>"
    "</spf></auth_results>",
    extra_row: str = "",
) -> str:
    return (
        f"<record><row><source_ip>{source_ip}</source_ip><count>{count}</count>"
        f"<policy_evaluated><disposition>{disposition}</disposition><dkim>{dkim}</dkim>"
        f"<spf>{spf}</spf>{extra_row}</policy_evaluated></row>"
        f"<identifiers><header_from>{header_from}</header_from></identifiers>{auth}</record>"
    )


def aggregate_xml(
    *,
    records: Iterable[str] = (),
    namespace: str | None = None,
    version: str | None = "1.0",
    org_name: str = "Example Org",
    report_id: str = "report-1",
    domain: str = "example.com",
    begin: str = "1700000000",
    end: str = "1700086399",
    policy: str = "<p>none</p>",
    metadata_extra: str = "",
    root_attributes: str = "",
) -> bytes:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    version_xml = f"<version>{version}</version>" if version is not None else ""
    body = "".join(records) or record_xml()
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<feedback{xmlns}{root_attributes}>'
        f"{version_xml}<report_metadata><org_name>{org_name}</org_name>"
        f"<email>dmarc@reporter.example</email><report_id>{report_id}</report_id>"
        f"<date_range><begin>{begin}</begin><end>{end}</end></date_range>{metadata_extra}"
        f"</report_metadata><policy_published><domain>{domain}</domain>{policy}"
        f"</policy_published>{body}</feedback>"
    ).encode()


def tls_json(**overrides: object) -> bytes:
    report: dict[str, object] = {
        "organization-name": "Example TLS Reporter",
        "date-range": {
            "start-datetime": "2024-05-01T00:00:00Z",
            "end-datetime": "2024-05-01T23:59:59Z",
        },
        "contact-info": "tlsrpt@reporter.example",
        "report-id": "tls-1",
        "policies": [
            {
                "policy": {"policy-type": "no-policy-found", "policy-domain": "example.com"},
                "summary": {
                    "total-successful-session-count": 10,
                    "total-failure-session-count": 0,
                },
            }
        ],
    }
    report.update(overrides)
    return json.dumps(report).encode()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def report_email(
    attachments: Iterable[tuple[bytes, str, str]],
    *,
    subject: str = "Report Domain: example.com Submitter: reporter.example Report-ID: <1>",
    transfer_encoding: str = "base64",
    body: str = "This is an aggregate DMARC report.",
    nested: bool = False,
) -> bytes:
    """An email with the given (payload, content type, filename) attachments."""
    message = MIMEMultipart("mixed")
    message["From"] = "DMARC Reporter <noreply-dmarc@reporter.example>"
    message["To"] = "dmarc@example.com"
    message["Subject"] = subject
    container: MIMEMultipart = message
    if nested:
        container = MIMEMultipart("related")
        message.attach(container)
    container.attach(MIMEText(body, "plain", "utf-8"))
    encoder = encoders.encode_quopri if transfer_encoding == "quoted-printable" else None
    for payload, content_type, filename in attachments:
        maintype, subtype = content_type.split("/")
        part = MIMEBase(maintype, subtype)
        part.set_payload(payload)
        (encoder or encoders.encode_base64)(part)
        part.add_header("Content-Disposition", "attachment", filename=filename)
        container.attach(part)
    return message.as_bytes()


def plain_text_failure_email() -> bytes:
    message = EmailMessage()
    message["From"] = "DMARC Failure Reports <dmarc-failures@receiver.example>"
    message["To"] = "ruf@example.com"
    message["Subject"] = "DMARC Failure Report for example.com"
    message.set_content(
        "A message claiming to be from you has failed the published DMARC policy for your "
        "domain.\n\n"
        "  Sender Domain: Example.COM\n"
        "  Sender IP Address: 198.51.100.25\n"
        "  Received Date: Wed, 01 May 2024 10:20:30 +0900\n"
        "  SPF Alignment: no\n"
        "  DKIM Alignment: yes\n"
        "  DMARC Results: Quarantine\n\n"
        "From: Spoofer <ceo@example.com>\n"
        "Subject: Urgent wire transfer\n"
        "Message-ID: <spoof-1@mailer.example>\n"
    )
    return message.as_bytes()
