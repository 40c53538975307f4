"""Roles and permissions: one function, `require`, decides what a user may do."""

from todoke.authz.actors import CLI_ACTOR, Actor, SystemActor
from todoke.authz.permissions import Permission, has_permission, require
from todoke.authz.roles import BUILTIN_ROLES, ROLE_NAMES

__all__ = [
    "BUILTIN_ROLES",
    "CLI_ACTOR",
    "ROLE_NAMES",
    "Actor",
    "Permission",
    "SystemActor",
    "has_permission",
    "require",
]
