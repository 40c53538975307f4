"""Demo data for `todoke demo`: a Japanese association with one user per everyday role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from todoke.accounts.models import User
from todoke.accounts.services import add_user, first_organisation, set_password
from todoke.authz import SystemActor
from todoke.bootstrap import initialise
from todoke.dmarc import queries
from todoke.dmarc.corpus import CorpusSpec, generate_reports
from todoke.dmarc.intake import BatchIngestor, Blob
from todoke.dmarc.services import register_source
from todoke.domains.services import register_domain
from todoke.runtime import Runtime

DEMO_ACTOR = SystemActor("demo")
DEMO_OWNER = "owner@demo.todoke.example"
DEMO_USERS = (
    ("analyst@demo.todoke.example", "分析 花子", "analyst", "ja"),
    ("approver@demo.todoke.example", "承認 太郎", "approver", "ja"),
    ("viewer@demo.todoke.example", "Viewer Vic", "viewer", "en"),
)


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str
    others: tuple[str, ...]


def load_demo(runtime: Runtime) -> DemoCredentials:
    """Initialise, add the demo users if missing, and give them a fresh password to print."""
    initialise(
        runtime, org_name="一般社団法人 届け協会 (Demo)", org_slug="demo", owner_email=DEMO_OWNER
    )
    password = secrets.token_urlsafe(12)
    with runtime.session() as session, session.begin():
        org = first_organisation(session)
        assert org is not None
        existing = set(session.scalars(select(User.email)))
        for email, name, role, locale in DEMO_USERS:
            if email not in existing:
                add_user(
                    session,
                    org=org,
                    email=email,
                    display_name=name,
                    password=password,
                    role_name=role,
                    locale=locale,
                    acting_user=DEMO_ACTOR,
                )
        for user in session.scalars(select(User).where(User.organisation_id == org.id)):
            set_password(session, user=user, password=password, acting_user=DEMO_ACTOR)
        owner = session.scalar(select(User).where(User.role.has(name="owner")).order_by(User.id))
        assert owner is not None
        owner_email = owner.email
    load_demo_reports(runtime)
    return DemoCredentials(
        email=owner_email, password=password, others=tuple(email for email, *_ in DEMO_USERS)
    )


DEMO_REPORTS = 300
DEMO_DAYS = 30


def load_demo_reports(runtime: Runtime) -> None:
    """A month of realistic reports ending today, a registered domain and the own servers, so
    the DMARC pages have something to show. Only once: a demo database with reports is left
    alone."""
    with runtime.session() as session, session.begin():
        org = first_organisation(session)
        assert org is not None
        if queries.count_reports(session, org=org):
            return
        register_domain(
            session, org=org, name="example.jp", sends_mail=True, acting_user=DEMO_ACTOR
        )
        for network, label in (
            ("203.0.113.0/26", "本社メールサーバー"),
            ("2001:db8:5a::/64", "本社 IPv6"),
        ):
            register_source(
                session, org=org, cidr=network, label=label, tags=["本社"], acting_user=DEMO_ACTOR
            )
        organisation_id = org.id
    today = runtime.clock.now().date()
    spec = CorpusSpec(reports=DEMO_REPORTS, start=today - timedelta(days=DEMO_DAYS), days=DEMO_DAYS)
    ingestor = BatchIngestor(
        runtime.session, organisation_id=organisation_id, acting_user=DEMO_ACTOR, channel="upload"
    )
    ingestor.add_all(Blob(report.filename, report.data) for report in generate_reports(spec))
