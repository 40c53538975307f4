"""From files and mail to stored reports: read, parse, store in batches, count, report errors.

Every channel (CLI folders, web and API uploads, the IMAP poller, the SMTP receiver) comes
through here, so the rules are the same for all: one bad file is an error naming that file and
never stops the batch; reports are committed every few thousand records so memory stays flat
and a crash loses at most one batch; nothing already stored is touched.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.errors import NotFound
from todoke.dmarc.ingest import Incoming, StoreOutcome, store_reports
from todoke.dmarc.parsing import (
    DEFAULT_LIMITS,
    FileError,
    ParseLimits,
    ParseOutcome,
    parse_report_bytes,
)
from todoke.dmarc.report_types import AggregateReport
from todoke.i18n import N_
from todoke.settings import Settings

#: Commit after this many records (or reports, for small ones): big enough that per-transaction
#: costs vanish, small enough that a batch's rows stay a few megabytes.
BATCH_RECORDS = 20_000
BATCH_REPORTS = 500


@dataclass
class IngestSummary:
    files: int = 0
    reports: Counter[str] = field(default_factory=Counter)
    records: int = 0
    messages: int = 0
    duplicates: int = 0
    errors: list[FileError] = field(default_factory=list)

    def absorb(self, outcome: StoreOutcome) -> None:
        self.reports.update(outcome.reports)
        self.records += outcome.records
        self.messages += outcome.messages
        self.duplicates += outcome.duplicates

    def as_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "reports": {
                kind: self.reports.get(kind, 0) for kind in ("aggregate", "failure", "tls")
            },
            "records": self.records,
            "messages": self.messages,
            "duplicates": self.duplicates,
            "errors": [
                {"file": error.file, "code": error.code, "error": error.message}
                for error in self.errors
            ],
        }


def limits_from(settings: Settings) -> ParseLimits:
    return replace(
        DEFAULT_LIMITS,
        max_input_bytes=settings.report_max_file_mb * 2**20,
        max_decompressed_bytes=settings.report_max_decompressed_mb * 2**20,
    )


def iter_input_files(paths: Sequence[Path]) -> Iterator[Path]:
    """Files named, and files inside folders named (recursively, sorted, hidden ones skipped)."""
    for path in paths:
        if path.is_dir():
            for root, directories, files in os.walk(path):
                directories[:] = sorted(d for d in directories if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


def missing_paths(paths: Sequence[Path]) -> list[Path]:
    return [path for path in paths if not path.exists()]


@dataclass(frozen=True)
class Blob:
    """One input as bytes with the name errors will use."""

    name: str
    data: bytes


def read_and_parse(path: str, limits: ParseLimits) -> tuple[str, ParseOutcome]:
    """Read one file and parse it; every problem becomes a FileError naming the file. Runs in
    worker processes, so it takes and returns only picklable values."""
    try:
        size = os.stat(path).st_size
        if size > limits.max_input_bytes:
            template = N_("file is %(size)s bytes; the limit is %(limit)s bytes")
            sizes = {"size": f"{size:,}", "limit": f"{limits.max_input_bytes:,}"}
            return path, ParseOutcome([], [FileError(path, "input.too_large", template, sizes)])
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        template = N_("cannot read the file: %(reason)s")
        reason = {"reason": error.strerror}
        return path, ParseOutcome([], [FileError(path, "input.unreadable", template, reason)])
    return path, parse_report_bytes(data, name=path, limits=limits)


class UploadedFile(Protocol):
    """A file arriving over HTTP (Starlette's UploadFile), read in chunks."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


#: uploads are read this much at a time, so an oversized one is refused before it is all read
UPLOAD_CHUNK = 1 << 20


class BatchIngestor:
    """Parses blobs and stores their reports for one organisation, committing in batches."""

    def __init__(
        self,
        open_session: Callable[[], Session],
        *,
        organisation_id: int,
        acting_user: Actor,
        channel: str,
        limits: ParseLimits = DEFAULT_LIMITS,
        on_file_done: Callable[[IngestSummary], None] | None = None,
    ) -> None:
        self._open_session = open_session
        self._organisation_id = organisation_id
        self._acting_user = acting_user
        self._channel = channel
        self._limits = limits
        self._on_file_done = on_file_done
        self._pending: list[Incoming] = []
        self._pending_records = 0
        self.summary = IngestSummary()

    def check_permission(self) -> None:
        """Fail before reading anything if the actor may not ingest into this organisation."""
        with self._open_session() as session:
            require(self._acting_user, "dmarc.ingest", org=self._organisation(session))

    def _organisation(self, session: Session) -> Organisation:
        org = session.get(Organisation, self._organisation_id)
        if org is None:
            raise NotFound(f"organisation {self._organisation_id} does not exist")
        return org

    def add(self, blob: Blob) -> None:
        self.add_outcome(
            blob.name, parse_report_bytes(blob.data, name=blob.name, limits=self._limits)
        )

    def add_outcome(self, name: str, outcome: ParseOutcome) -> None:
        self.summary.files += 1
        self.summary.errors.extend(outcome.errors)
        for report in outcome.reports:
            self._pending.append(Incoming(report, name))
            if isinstance(report, AggregateReport):
                self._pending_records += len(report.records)
        if self._pending_records >= BATCH_RECORDS or len(self._pending) >= BATCH_REPORTS:
            self.flush()
        if self._on_file_done is not None:
            self._on_file_done(self.summary)

    async def add_uploads(self, files: Iterable[UploadedFile]) -> IngestSummary:
        """Ingest uploaded files; one over `max_input_bytes` is refused by name, unread past it."""
        limit = self._limits.max_input_bytes
        for upload in files:
            name = upload.filename or "upload"
            data = bytearray()
            while chunk := await upload.read(UPLOAD_CHUNK):
                data += chunk
                if len(data) > limit:
                    break
            if len(data) > limit:
                self.refuse(
                    name,
                    "input.too_large",
                    N_("upload is over the limit of %(limit)s bytes"),
                    limit=f"{limit:,}",
                )
                continue
            self.add(Blob(name, bytes(data)))
        return self.add_all(())

    def add_path(self, path: Path) -> None:
        self.add_outcome(*read_and_parse(str(path), self._limits))

    def add_paths(self, paths: Iterable[Path], *, workers: int = 1) -> IngestSummary:
        """Parse files in `workers` processes while this one stores, in input order.

        Parsing is pure CPU work and storage waits on the database, so on two cores a second
        process nearly doubles throughput. At most a few files per worker are in flight, so
        memory does not grow with the number of files.
        """
        if workers <= 1:
            for path in paths:
                self.add_path(path)
            return self.add_all(())
        window = workers * 4
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            in_flight: deque[Future[tuple[str, ParseOutcome]]] = deque()
            for path in paths:
                in_flight.append(pool.submit(read_and_parse, str(path), self._limits))
                if len(in_flight) >= window:
                    self.add_outcome(*in_flight.popleft().result())
            while in_flight:
                self.add_outcome(*in_flight.popleft().result())
        return self.add_all(())

    def refuse(self, name: str, code: str, template: str, **values: object) -> None:
        self.summary.files += 1
        self.summary.errors.append(FileError(name, code, template, values))
        if self._on_file_done is not None:
            self._on_file_done(self.summary)

    def add_all(self, blobs: Iterable[Blob]) -> IngestSummary:
        for blob in blobs:
            self.add(blob)
        self.flush()
        return self.summary

    def flush(self) -> None:
        if not self._pending:
            return
        with self._open_session() as session, session.begin():
            outcome = store_reports(
                session,
                org=self._organisation(session),
                items=self._pending,
                channel=self._channel,
                acting_user=self._acting_user,
            )
        self.summary.absorb(outcome)
        self._pending = []
        self._pending_records = 0


def upload_ingestor(
    open_session: Callable[[], Session],
    *,
    organisation_id: int,
    acting_user: Actor,
    settings: Settings,
) -> BatchIngestor:
    """The ingestor of files a person uploads (page or API), with the installation's limits."""
    return BatchIngestor(
        open_session,
        organisation_id=organisation_id,
        acting_user=acting_user,
        channel="upload",
        limits=limits_from(settings),
    )
