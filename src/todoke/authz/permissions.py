"""The one permission check every service calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from todoke.authz.actors import Actor, SystemActor
from todoke.authz.roles import PERMISSIONS
from todoke.core.errors import PermissionDenied
from todoke.i18n import N_

if TYPE_CHECKING:
    from todoke.accounts.models import Organisation

Permission = str


def has_permission(
    actor: Actor, permission: Permission, *, org: Organisation | None = None
) -> bool:
    if permission not in PERMISSIONS:
        # A typo in a permission name must fail loudly in tests, not deny silently.
        raise KeyError(f"unknown permission {permission!r}")
    if isinstance(actor, SystemActor):
        return True
    if not actor.is_active:
        return False
    if org is not None and actor.organisation_id != org.id:
        return False
    return permission in actor.role.permissions


def require(actor: Actor, permission: Permission, *, org: Organisation | None = None) -> None:
    """Raise PermissionDenied unless `actor` holds `permission` (in `org`, when given)."""
    if not has_permission(actor, permission, org=org):
        who = getattr(actor, "email", "this actor")
        raise PermissionDenied(
            N_("%(who)s may not do this: it needs the permission %(permission)r"),
            who=who,
            permission=permission,
        )
