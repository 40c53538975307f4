"""Demo data for `todoke demo`: a Japanese association with one user per everyday role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from todoke.accounts.models import User
from todoke.accounts.services import add_user, first_organisation, set_password
from todoke.authz import SystemActor
from todoke.bootstrap import initialise
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
    return DemoCredentials(
        email=owner_email, password=password, others=tuple(email for email, *_ in DEMO_USERS)
    )
