"""Built-in roles as data. `todoke init` writes them to the `role` table.

Each later feature adds its permissions here; the role table is re-synced on every `init`, so an
upgrade gives existing installs the new permissions without a hand edit.
"""

from __future__ import annotations

from typing import Final

PERMISSIONS: Final[dict[str, str]] = {
    "org.view": "See the organisation and its dashboard",
    "users.view": "See the organisation's users",
    "users.manage": "Add users, change their roles, deactivate them",
    "audit.view": "Read the audit trail",
    "audit.verify": "Recompute the audit trail's hash chain",
    "settings.view": "See the effective settings (secrets redacted)",
    "domains.view": "See the organisation's domains and their checks",
    "domains.manage": "Register and remove domains",
    "dmarc.view": "Read DMARC, failure and TLS report analyses",
    "dmarc.ingest": "Upload and import reports",
    "dmarc.manage_sources": "Register the organisation's sending sources and their tags",
    "dmarc.manage_mailboxes": "Configure the report mailboxes Todoke polls",
    "dmarc.view_personal_data": "See personal data in failure reports (addresses, headers)",
}

_READ = ("org.view", "domains.view", "dmarc.view")

BUILTIN_ROLES: Final[dict[str, frozenset[str]]] = {
    # Everything, including handing out ownership.
    "owner": frozenset(PERMISSIONS),
    "admin": frozenset(PERMISSIONS),
    # Approves bulk sends (four eyes); reads what it approves.
    "approver": frozenset({*_READ, "audit.view"}),
    # Runs day-to-day sending.
    "operator": frozenset(_READ),
    # Reads reports and analyses deliverability.
    "analyst": frozenset({*_READ, "dmarc.ingest", "dmarc.manage_sources"}),
    "viewer": frozenset(_READ),
    # The security / audit officer's needs are met by approver/admin today; a dedicated
    # auditor role arrives with the full permission model.
}

ROLE_NAMES: Final[tuple[str, ...]] = tuple(BUILTIN_ROLES)
