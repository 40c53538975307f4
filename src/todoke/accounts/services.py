"""The only way to change organisations and users."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation, Role, User
from todoke.accounts.passwords import hash_password
from todoke.audit import record_audit
from todoke.authz import BUILTIN_ROLES, Actor, require
from todoke.core.errors import Conflict, InvalidInput, NotFound
from todoke.settings import SUPPORTED_LOCALES

_EMAIL_SHAPE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_SLUG_SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def sync_builtin_roles(session: Session) -> list[str]:
    """Make the role table hold the built-in roles as `authz.roles` defines them today."""
    changed: list[str] = []
    existing = {role.name: role for role in session.scalars(select(Role))}
    for name, permissions in BUILTIN_ROLES.items():
        wanted = sorted(permissions)
        role = existing.get(name)
        if role is None:
            session.add(Role(name=name, builtin=True, permissions=wanted))
            changed.append(name)
        elif sorted(role.permissions) != wanted:
            role.permissions = wanted
            changed.append(name)
    return changed


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not _EMAIL_SHAPE.match(cleaned) or len(cleaned) > 320:
        raise InvalidInput(f"not an email address: {email!r}")
    return cleaned


def create_organisation(
    session: Session, *, name: str, slug: str, acting_user: Actor
) -> Organisation:
    require(acting_user, "users.manage")
    if not name.strip():
        raise InvalidInput("organisation name must not be empty")
    if not _SLUG_SHAPE.match(slug):
        raise InvalidInput(f"slug {slug!r} must be lower-case letters, digits and '-'")
    if session.scalar(select(Organisation).where(Organisation.slug == slug)) is not None:
        raise Conflict(f"an organisation with slug {slug!r} already exists")
    org = Organisation(name=name.strip(), slug=slug)
    session.add(org)
    session.flush()
    record_audit(
        session,
        acting_user,
        "accounts.organisation.created",
        org=org,
        target=org,
        details={"name": org.name, "slug": slug},
    )
    return org


def role_by_name(session: Session, name: str) -> Role:
    role = session.scalar(select(Role).where(Role.name == name))
    if role is None:
        raise InvalidInput(f"unknown role {name!r}; roles are: {', '.join(BUILTIN_ROLES)}")
    return role


def add_user(
    session: Session,
    *,
    org: Organisation,
    email: str,
    display_name: str,
    password: str,
    role_name: str,
    locale: str | None = None,
    acting_user: Actor,
) -> User:
    """Create a user in `org` with one of the roles."""
    require(acting_user, "users.manage", org=org)
    address = normalise_email(email)
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise InvalidInput(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}")
    role = role_by_name(session, role_name)
    if role.name == "owner" and not _may_grant_owner(acting_user):
        raise InvalidInput("only an owner may create another owner")
    if session.scalar(select(User).where(User.email == address)) is not None:
        raise Conflict(f"a user with the address {address} already exists")
    user = User(
        organisation_id=org.id,
        email=address,
        display_name=display_name.strip() or address,
        password_hash=hash_password(password),
        role_id=role.id,
        role=role,
        organisation=org,
        locale=locale,
    )
    session.add(user)
    session.flush()
    record_audit(
        session,
        acting_user,
        "accounts.user.added",
        org=org,
        target=user,
        details={"email": address, "role": role.name},
    )
    return user


def _may_grant_owner(actor: Actor) -> bool:
    role = getattr(actor, "role", None)
    return role is None or role.name == "owner"


def set_locale(session: Session, *, user: User, locale: str | None, acting_user: Actor) -> None:
    """A user's own language choice (anyone may set their own)."""
    if acting_user is not user:
        require(acting_user, "users.manage", org=user.organisation)
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise InvalidInput(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}")
    previous = user.locale
    user.locale = locale
    record_audit(
        session,
        acting_user,
        "accounts.user.locale_changed",
        org=user.organisation,
        target=user,
        details={"from": previous, "to": locale},
    )


def list_users(session: Session, *, org: Organisation, acting_user: Actor) -> Sequence[User]:
    require(acting_user, "users.view", org=org)
    return session.scalars(
        select(User).where(User.organisation_id == org.id).order_by(User.email)
    ).all()


def get_organisation(session: Session, slug: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"no organisation with slug {slug!r}")
    return org


def first_organisation(session: Session) -> Organisation | None:
    return session.scalar(select(Organisation).order_by(Organisation.id).limit(1))


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def set_password(session: Session, *, user: User, password: str, acting_user: Actor) -> None:
    """Replace a user's password; every open session of theirs ends."""
    if acting_user is not user:
        require(acting_user, "users.manage", org=user.organisation)
    from todoke.accounts.models import WebSession

    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    record_audit(
        session, acting_user, "accounts.user.password_changed", org=user.organisation, target=user
    )


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"no user with the address {email}")
    return user
