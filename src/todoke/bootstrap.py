"""`todoke init`: create or migrate the database, then the first organisation and owner.

Idempotent: run it on every upgrade. It never touches an existing organisation or user.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from todoke.accounts.services import (
    add_user,
    count_users,
    create_organisation,
    first_organisation,
    sync_builtin_roles,
)
from todoke.authz import CLI_ACTOR
from todoke.db import migrate
from todoke.runtime import Runtime


@dataclass(frozen=True)
class InitResult:
    migrated_from: str | None
    migrated_to: str | None
    roles_changed: list[str]
    organisation_slug: str
    owner_email: str | None
    #: Only set when this run created the owner with a generated password.
    owner_password: str | None


def initialise(
    runtime: Runtime,
    *,
    org_name: str = "My organisation",
    org_slug: str = "default",
    owner_email: str = "owner@example.com",
    owner_password: str | None = None,
) -> InitResult:
    runtime.settings.secret_key_bytes()  # create the key now, so the first backup includes it
    before = migrate.current_revision(runtime.engine)
    migrate.upgrade(runtime.engine)
    with runtime.session() as session, session.begin():
        roles_changed = sync_builtin_roles(session)
        session.flush()
        org = first_organisation(session)
        created_owner: str | None = None
        password: str | None = None
        if org is None:
            org = create_organisation(session, name=org_name, slug=org_slug, acting_user=CLI_ACTOR)
        if count_users(session) == 0:
            password = owner_password or secrets.token_urlsafe(12)
            owner = add_user(
                session,
                org=org,
                email=owner_email,
                display_name="Owner",
                password=password,
                role_name="owner",
                acting_user=CLI_ACTOR,
            )
            created_owner = owner.email
        slug = org.slug
    return InitResult(
        migrated_from=before,
        migrated_to=migrate.current_revision(runtime.engine),
        roles_changed=roles_changed,
        organisation_slug=slug,
        owner_email=created_owner,
        owner_password=password if owner_password is None else None,
    )
