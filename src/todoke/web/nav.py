"""The navigation: today's pages, and the areas still to come shown as such."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from todoke.authz import has_permission
from todoke.i18n import N_
from todoke.i18n import gettext as _

if TYPE_CHECKING:
    from todoke.accounts.models import User


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str | None  # None: an area that arrives with a later release
    active: bool


# (label msgid, href, permission). href None marks an area not yet available.
_ITEMS: tuple[tuple[str, str | None, str | None], ...] = (
    (N_("Dashboard"), "/", "org.view"),
    (N_("DMARC reports"), "/dmarc", "dmarc.view"),
    (N_("Domains"), "/domains", "domains.view"),
    (N_("Test mail"), "/test-mail", "domains.view"),
    (N_("Sending"), None, None),
    (N_("Campaigns"), None, None),
    (N_("Users"), "/users", "users.view"),
    (N_("Audit log"), "/audit", "audit.view"),
)


def navigation(path: str, user: User | None) -> list[NavItem]:
    if user is None:
        return []
    items: list[NavItem] = []
    for label, href, permission in _ITEMS:
        if permission is not None and not has_permission(user, permission):
            continue
        active = href is not None and (path == href if href == "/" else path.startswith(href))
        items.append(NavItem(label=_(label), href=href, active=active))
    return items
