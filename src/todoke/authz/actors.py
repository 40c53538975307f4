"""Who acts: a signed-in user, or the installation itself (CLI at the machine, worker jobs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from todoke.accounts.models import User


@dataclass(frozen=True)
class SystemActor:
    """Someone with shell access to the installation, or a scheduled job.

    It may do anything: whoever runs `todoke` on the server already holds the database.
    The label says which (e.g. "cli", "worker:sessions.purge") in the audit trail.
    """

    label: str = "system"


Actor: TypeAlias = "User | SystemActor"

CLI_ACTOR = SystemActor("cli")
