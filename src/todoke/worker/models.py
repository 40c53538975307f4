"""State of periodic jobs, shared by every worker process so each run happens once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from todoke.db import Base


class PeriodicJobState(Base):
    __tablename__ = "periodic_job"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime]
    #: A worker holds the job until this time; an expired lease may be taken over.
    leased_until: Mapped[datetime | None] = mapped_column(default=None)
    lease_holder: Mapped[str | None] = mapped_column(String(200), default=None)
    last_started_at: Mapped[datetime | None] = mapped_column(default=None)
    last_finished_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    runs: Mapped[int] = mapped_column(default=0)
