"""Imports every model module so `Base.metadata` knows all tables (Alembic, tests)."""

from todoke.accounts import models as accounts_models
from todoke.audit import models as audit_models
from todoke.db.base import Base
from todoke.dmarc import models as dmarc_models
from todoke.domains import models as domains_models
from todoke.worker import models as worker_models

__all__ = [
    "Base",
    "accounts_models",
    "audit_models",
    "dmarc_models",
    "domains_models",
    "worker_models",
]
