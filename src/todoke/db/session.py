"""Session factory: the caller owns the transaction (`with session.begin():`)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

SessionFactory = sessionmaker[Session]


def make_session_factory(engine: Engine) -> SessionFactory:
    # expire_on_commit=False: adapters render objects after the transaction has committed.
    return sessionmaker(bind=engine, expire_on_commit=False, autobegin=True)


AfterCommit = Callable[[], None]


def on_commit(session: Session, callback: AfterCommit) -> None:
    """Run `callback` once the session's current transaction commits (never on rollback)."""
    pending: list[AfterCommit] = session.info.setdefault("todoke_after_commit", [])
    pending.append(callback)


def _run_after_commit(session: Session) -> None:
    callbacks: list[AfterCommit] = session.info.pop("todoke_after_commit", [])
    for callback in callbacks:
        callback()


def _drop_after_rollback(session: Session) -> None:
    session.info.pop("todoke_after_commit", None)


def install_commit_hooks() -> None:
    from sqlalchemy import event

    if not event.contains(Session, "after_commit", _run_after_commit):
        event.listen(Session, "after_commit", _run_after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, _t: _drop_after_rollback(s))


install_commit_hooks()
