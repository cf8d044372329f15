"""Importing citizens, cases, rulings and subscribers from staff files (DESIGN.md, "Import files").

Each importer reads records, checks each row (services/imports/rows.py), and applies the good ones in
batches, one transaction a batch: per batch one IN query resolves what the rows refer to and one
bulk statement writes them (storage/bulk.py). Bad rows are collected with their line numbers and
skipped. Everything is keyed (national_id / case_number / ruling_id / platform+chat_id), so a second
import of the same file changes nothing. Nothing is sent from here: a new ruling gets its Notice in
the same transaction, and the delivery engine picks notices up from the database.

A database failure (a constraint, a lost connection) rolls the batch in hand back whole and stops
the import; the report says up to which line rows were applied. Every import, finished or not, is
one audit event (who, kind, file, counts, completed).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.imports import messages as msg
from services.imports.rows import (
    CITIZEN_COLUMNS,
    KEY_FIELDS,
    SUBSCRIBER_COLUMNS,
    CaseRow,
    CitizenRow,
    ImportFileError,
    Record,
    RowError,
    RowProblem,
    RulingRow,
    SubscriberRow,
    parse_case,
    parse_citizen,
    parse_ruling,
    parse_subscriber,
    read_csv,
    read_jsonl,
)
from services.law.calendar import tehran_date
from services.privacy import Hasher
from storage import bulk
from storage.audit import record_event
from storage.database import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

__all__ = ["BATCH_SIZE", "CSV_KINDS", "DATABASE_ERRORS", "DEFAULT_ACTOR", "IMPORTERS", "ITEM_KINDS", "ImportFileError",
           "ImportPreview", "ImportReport", "Progress", "RowProblem", "import_cases", "import_citizens", "import_items",
           "import_rulings", "import_subscribers", "validate_import"]

DEFAULT_ACTOR = "import"
"""The audit trail's actor when the caller names none (the CLI gives `cli:<OS user>`)."""

# Rows per transaction: large enough to amortise a round trip, small enough that a lock on SQLite
# is held for a fraction of a second and the running bot keeps answering.
BATCH_SIZE = 2000

CSV_KINDS = frozenset({"citizens", "subscribers"})
"""Kinds read as CSV, whose first line is the header and not a row; the others are JSONL."""

Progress = Callable[[int, int], None]
"""Called with (rows read so far, rows in the file or 0 when unknown) after every batch."""


@dataclass
class ImportReport:
    """What an import did. Counts cover committed batches only.

    When the database fails, the batch in hand is rolled back whole and the import stops there:
    `applied_through` is the last line of the last committed batch, `failed_from` the first line of
    the batch that was rolled back (it and everything after it were not applied).
    """

    kind: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    applied_through: int = 0
    failed_from: int | None = None
    failure: str | None = None  # the error's kind (class name), never its text: it may quote row values
    audited: bool = False
    # line -> inserted|updated|unchanged, kept only when asked for (the integration API answers per item)
    outcomes: dict[int, str] | None = None
    # line -> the row's key as shown (ruling_id, case_number, masked national ID), kept with outcomes
    keys: dict[int, str] | None = None

    @property
    def bad(self) -> int:
        return len(self.problems)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated

    @property
    def completed(self) -> bool:
        return self.failure is None

    def add_problem(self, line: int, reason: str, field: str = "", reason_en: str = "") -> None:
        self.problems.append(RowProblem(line, reason, field, reason_en))

    def count(self, line: int, outcome: str, n: int = 1) -> None:
        """Count a row as inserted, updated or unchanged; `outcomes` remembers each line's when kept."""
        setattr(self, outcome, getattr(self, outcome) + n)
        if self.outcomes is not None:
            self.outcomes[line] = outcome

    def absorb(self, batch: ImportReport, last_line: int) -> None:
        """Add a committed batch's counts and problems."""
        self.inserted += batch.inserted
        self.updated += batch.updated
        self.unchanged += batch.unchanged
        self.problems.extend(batch.problems)
        self.applied_through = max(self.applied_through, last_line)
        if self.outcomes is not None and batch.outcomes is not None:
            self.outcomes.update(batch.outcomes)


class _Row(Protocol):
    @property
    def line(self) -> int: ...

    @property
    def key(self) -> Hashable: ...


RowT = TypeVar("RowT", bound=_Row)
Reader = Callable[[Iterable[Any]], Iterator[Record | RowProblem]]
Parser = Callable[[int, Mapping[str, Any], Hasher], RowT]
Writer = Callable[[AsyncSession, list[RowT], ImportReport, datetime], Awaitable[None]]

# What a failing database raises: SQLAlchemy wraps the driver's errors (a constraint, a lost
# connection); connecting can also fail with a bare OSError (refused, timed out).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)


def _count(lines: Iterable[str], header: bool) -> int:
    return max(len(lines) - header, 0) if isinstance(lines, Sized) else 0


async def _run(db: Database, hasher: Hasher, kind: str, lines: Iterable[str], reader: Reader,
               parse: Parser[RowT], write: Writer[RowT], *, total: int | None, progress: Progress | None,
               batch_size: int, when: datetime, actor: str, source: str, per_row: bool = False) -> ImportReport:
    if total is None:
        total = _count(lines, kind in CSV_KINDS)
    report = ImportReport(kind, outcomes={} if per_row else None, keys={} if per_row else None)
    try:
        await _apply(db, hasher, report, reader(lines), parse, write, total=total, progress=progress,
                     batch_size=batch_size, when=when)
    except Exception as error:  # not a database error (those end _apply): record the attempt, then raise
        report.failure = type(error).__name__
        await _audit(db, report, when=when, actor=actor, source=source)
        raise
    report.problems.sort(key=lambda problem: problem.line)
    await _audit(db, report, when=when, actor=actor, source=source)
    return report


async def _apply(db: Database, hasher: Hasher, report: ImportReport, records: Iterator[Record | RowProblem],
                 parse: Parser[RowT], write: Writer[RowT], *, total: int, progress: Progress | None,
                 batch_size: int, when: datetime) -> None:
    first_line_of: dict[Hashable, int] = {}  # key -> line it was first seen on: later ones are duplicates
    batch: list[RowT] = []
    read = 0

    async def flush() -> bool:
        """Write the batch in one transaction; False (and the report says where) when it failed."""
        if batch:
            part = ImportReport(report.kind, outcomes={} if report.outcomes is not None else None)
            try:
                async with db.session() as session:
                    await write(session, batch, part, when)
            except DATABASE_ERRORS as error:
                log.warning("import %s: batch from line %d rolled back: %s", report.kind, batch[0].line,
                            type(error).__name__)
                report.failed_from, report.failure = batch[0].line, type(error).__name__
                return False
            report.absorb(part, batch[-1].line)
            batch.clear()
        if progress is not None:
            progress(read, total)
        return True

    for item in records:
        read += 1
        if isinstance(item, RowProblem):
            report.problems.append(item)
            continue
        line, fields = item
        try:
            row = parse(line, fields, hasher)
        except RowError as error:
            report.add_problem(line, str(error), error.field, error.reason)
            continue
        if report.keys is not None:
            report.keys[line] = _shown_key(row)
        first = first_line_of.setdefault(row.key, line)
        if first != line:
            report.add_problem(line, msg.duplicate_in_file(KEY_FIELDS[type(row)], first), KEY_FIELDS[type(row)],
                               "given twice in one request or file")
            continue
        batch.append(row)
        if len(batch) >= batch_size and not await flush():
            return
    await flush()


async def _audit(db: Database, report: ImportReport, *, when: datetime, actor: str, source: str) -> None:
    """One audit event per import, finished or not. A database too broken to take it is logged."""
    detail: dict[str, Any] = {"file": source, "inserted": report.inserted, "updated": report.updated,
                              "unchanged": report.unchanged, "bad": report.bad, "completed": report.completed,
                              "applied_through_line": report.applied_through}
    if not report.completed:
        detail.update(failed_from_line=report.failed_from, error=report.failure)
    try:
        async with db.session() as session:
            record_event(session, actor=actor[:64], action=f"import.{report.kind}", subject=source[-128:],
                         detail=detail, at=when)
    except DATABASE_ERRORS as error:
        log.warning("import %s: audit event not recorded: %s", report.kind, type(error).__name__)
        return
    report.audited = True


def _shown_key(row: Any) -> str:
    """What identifies a row to the caller: its ruling_id or case_number, a citizen's masked national ID."""
    if isinstance(row, CitizenRow):
        return row.nid_masked
    if isinstance(row, CaseRow):
        return row.case_number
    if isinstance(row, RulingRow):
        return row.ruling_id
    return str(row.key)


# ---------------------------------------------------------------- writers, one batch each


def _tally(report: ImportReport, line: int, old: Mapping[str, Any] | None, values: Mapping[str, Any],
           fields: Iterable[str]) -> bool:
    """Count an upserted row as inserted, updated or unchanged; whether it has to be written."""
    if old is None:
        report.count(line, "inserted")
    elif all(old[name] == values[name] for name in fields):
        report.count(line, "unchanged")
        return False
    else:
        report.count(line, "updated")
    return True


async def _write_citizens(session: AsyncSession, rows: list[CitizenRow], report: ImportReport,
                          now: datetime) -> None:
    existing = await bulk.citizens_by_nid_hash(session, [row.nid_hash for row in rows])
    writes: list[dict[str, Any]] = []
    for row in rows:
        old = existing.get(row.nid_hash)
        values: dict[str, Any] = {
            "nid_masked": row.nid_masked, "mobile_hash": row.mobile_hash, "mobile_masked": row.mobile_masked,
            # an empty cell keeps what is on file rather than erasing it
            "full_name": row.full_name if row.full_name is not None else (old["full_name"] if old else ""),
            "district": row.district if row.district is not None else (old["district"] if old else None),
        }
        if _tally(report, row.line, old, values, bulk.CITIZEN_FIELDS):
            writes.append({"nid_hash": row.nid_hash, **values, "created_at": now, "updated_at": now})
    await bulk.upsert_citizens(session, writes)


_CASE_DEFAULTS: dict[str, Any] = {"district": None, "address": "", "violation": "", "hearing_at": None}


def _owner(row: CaseRow | RulingRow | SubscriberRow, owners: dict[str, int], report: ImportReport) -> int | None:
    """The citizen a row names by national ID; a row naming none on file is reported and skipped."""
    citizen_id = owners.get(row.nid_hash)
    if citizen_id is None:
        report.add_problem(row.line, msg.UNKNOWN_CITIZEN, "national_id", "no citizen with this national ID")
    return citizen_id


async def _write_cases(session: AsyncSession, rows: list[CaseRow], report: ImportReport, now: datetime) -> None:
    owners = await bulk.citizen_ids_by_nid_hash(session, {row.nid_hash for row in rows})
    existing = await bulk.cases_by_number(session, [row.case_number for row in rows])
    writes: list[dict[str, Any]] = []
    for row in rows:
        citizen_id = _owner(row, owners, report)
        if citizen_id is None:
            continue
        old = existing.get(row.case_number)
        if old is not None and old["citizen_id"] != citizen_id:
            # rulings already served on this case belong to its citizen: never move it silently
            report.add_problem(row.line, msg.CASE_OWNER_CHANGE, "national_id", "the case belongs to another citizen")
            continue
        base = old if old is not None else _CASE_DEFAULTS
        values = {"citizen_id": citizen_id, "status": row.status,
                  **{name: base[name] for name in _CASE_DEFAULTS}, **row.changes}
        if _tally(report, row.line, old, values, bulk.CASE_FIELDS):
            writes.append({"case_number": row.case_number, **values, "created_at": now, "updated_at": now})
    await bulk.upsert_cases(session, writes)


async def _write_rulings(session: AsyncSession, rows: list[RulingRow], report: ImportReport,
                         now: datetime, *, test: bool = False) -> None:
    owners = await bulk.citizen_ids_by_nid_hash(session, {row.nid_hash for row in rows})
    cases = await bulk.case_owners(session, {row.case_number for row in rows})
    stored = await bulk.ruling_hashes(session, [row.ruling_id for row in rows])
    inserts: list[dict[str, Any]] = []
    lines: dict[str, int] = {}
    for row in rows:
        citizen_id = _owner(row, owners, report)
        if citizen_id is None:
            continue
        case = cases.get(row.case_number)
        if case is None:
            report.add_problem(row.line, msg.UNKNOWN_CASE, "case_number", "no case with this number")
            continue
        case_id, case_citizen_id = case
        if case_citizen_id != citizen_id:
            report.add_problem(row.line, msg.CASE_OF_OTHER_CITIZEN, "national_id", "the case belongs to another citizen")
            continue
        values = {"case_id": case_id, "citizen_id": citizen_id, "commission": row.commission, "kind": row.kind,
                  "issued_on": row.issued_on, "fine_amount_rials": row.fine_amount_rials,
                  "summary": row.summary, "text": row.text}
        content_hash = bulk.ruling_content_hash(values)
        old_hash = stored.get(row.ruling_id)
        if old_hash is None:
            inserts.append({"ruling_id": row.ruling_id, **values, "content_hash": content_hash,
                            "created_at": now, **({"test": True} if test else {})})
            lines[row.ruling_id] = row.line
        elif old_hash == content_hash:
            report.count(row.line, "unchanged")
        else:
            report.add_problem(row.line, msg.RULING_CHANGED, "ruling_id", "a stored ruling never changes; this one differs")
    inserted = set(await bulk.insert_rulings_with_notices(session, inserts, now))
    for ruling_id, line in lines.items():
        # not inserted: inserted meanwhile by a concurrent import
        report.count(line, "inserted" if ruling_id in inserted else "unchanged")


async def _write_subscribers(session: AsyncSession, rows: list[SubscriberRow], report: ImportReport,
                             now: datetime) -> None:
    owners = await bulk.citizen_ids_by_nid_hash(session, {row.nid_hash for row in rows})
    existing = await bulk.bindings_by_chat(session, [row.key for row in rows])
    inserts: list[dict[str, Any]] = []
    user_id_updates: list[tuple[int, int]] = []
    for row in rows:
        citizen_id = _owner(row, owners, report)
        if citizen_id is None:
            continue
        old = existing.get(row.key)
        if old is None:
            inserts.append({"citizen_id": citizen_id, "platform": row.platform, "chat_id": row.chat_id,
                            "user_id": row.user_id, "bound_at": now})
        elif not old["active"]:
            # the citizen logged out here after the old bot's list was made: their choice stands
            report.add_problem(row.line, msg.CHAT_UNBOUND_BY_CITIZEN, "chat_id", "the citizen logged out of this chat")
        elif old["citizen_id"] != citizen_id:
            report.add_problem(row.line, msg.CHAT_OF_OTHER_CITIZEN, "chat_id", "the chat is bound to another citizen")
        elif row.user_id is not None and row.user_id != old["user_id"]:
            user_id_updates.append((old["id"], row.user_id))
            report.count(row.line, "updated")
        else:
            report.count(row.line, "unchanged")
    inserted = await bulk.insert_bindings(session, inserts)
    report.inserted += inserted
    report.unchanged += len(inserts) - inserted
    await bulk.set_binding_user_ids(session, user_id_updates)


# ---------------------------------------------------------------- public API


async def import_citizens(db: Database, hasher: Hasher, lines: Iterable[str], *, total: int | None = None,
                          progress: Progress | None = None, batch_size: int = BATCH_SIZE,
                          now: datetime | None = None, actor: str = DEFAULT_ACTOR, source: str = "") -> ImportReport:
    """CSV `national_id,mobile,full_name,district`: upsert by national ID.

    Raises ImportFileError when the header lacks national_id or mobile (nothing is applied).
    """
    return await _run(db, hasher, "citizens", lines, partial(read_csv, columns=CITIZEN_COLUMNS),
                      parse_citizen, _write_citizens, total=total, progress=progress, batch_size=batch_size,
                      when=now or utcnow(), actor=actor, source=source)


async def import_cases(db: Database, hasher: Hasher, lines: Iterable[str], *, total: int | None = None,
                       progress: Progress | None = None, batch_size: int = BATCH_SIZE,
                       now: datetime | None = None, actor: str = DEFAULT_ACTOR, source: str = "") -> ImportReport:
    """JSONL cases: upsert by case_number; the citizen must exist. A key left out keeps its value."""
    return await _run(db, hasher, "cases", lines, read_jsonl, parse_case, _write_cases,
                      total=total, progress=progress, batch_size=batch_size, when=now or utcnow(), actor=actor,
                      source=source)


async def import_rulings(db: Database, hasher: Hasher, lines: Iterable[str], *, total: int | None = None,
                         progress: Progress | None = None, batch_size: int = BATCH_SIZE,
                         now: datetime | None = None, actor: str = DEFAULT_ACTOR, source: str = "",
                         test: bool = False) -> ImportReport:
    """JSONL rulings: insert when absent, with their notices; a stored ruling never changes.

    A ruling issued after today (Tehran's date at `now`) is refused. `test`: test rulings, never sent.
    """
    when = now or utcnow()
    return await _run(db, hasher, "rulings", lines, read_jsonl, partial(parse_ruling, today=tehran_date(when)),
                      partial(_write_rulings, test=test), total=total, progress=progress, batch_size=batch_size, when=when,
                      actor=actor, source=source)


async def import_subscribers(db: Database, hasher: Hasher, lines: Iterable[str], *, total: int | None = None,
                             progress: Progress | None = None, batch_size: int = BATCH_SIZE,
                             now: datetime | None = None, actor: str = DEFAULT_ACTOR,
                             source: str = "") -> ImportReport:
    """CSV `national_id,platform,chat_id[,user_id]`: bind chats moved from an existing bot."""
    return await _run(db, hasher, "subscribers", lines, partial(read_csv, columns=SUBSCRIBER_COLUMNS),
                      parse_subscriber, _write_subscribers, total=total, progress=progress,
                      batch_size=batch_size, when=now or utcnow(), actor=actor, source=source)


# ---------------------------------------------------------------- items (the integration API)

ITEM_KINDS = ("citizens", "cases", "rulings")


def _read_items(items: Iterable[Any]) -> Iterator[Record | RowProblem]:
    """Objects as records, keys read as the importers read a file's (trimmed, lower case); item i is line i+1."""
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            yield RowProblem(index + 1, msg.JSON_NOT_OBJECT)
            continue
        yield index + 1, {str(k).strip().lower(): v for k, v in item.items()}


async def import_items(db: Database, hasher: Hasher, kind: str, items: Sequence[Mapping[str, Any]], *,
                       now: datetime | None = None, actor: str = DEFAULT_ACTOR, source: str = "",
                       test: bool = False) -> ImportReport:
    """Apply objects with the import files' fields through the importers' own checks and writers.

    The report's `outcomes` and `keys` are by line, item i being line i+1; rejected items are its
    `problems`. `test` marks rulings as test rulings (never sent; see storage/deliveries.py).
    """
    when = now or utcnow()
    parse: Parser[Any]
    write: Writer[Any]
    if kind == "citizens":
        parse, write = parse_citizen, _write_citizens
    elif kind == "cases":
        parse, write = parse_case, _write_cases
    elif kind == "rulings":
        parse, write = partial(parse_ruling, today=tehran_date(when)), partial(_write_rulings, test=test)
    else:
        raise ValueError(f"not an item kind: {kind}")
    return await _run(db, hasher, kind, items, _read_items, parse, write, total=len(items), progress=None,  # type: ignore[arg-type, misc]
                      batch_size=max(len(items), 1), when=when, actor=actor, source=source, per_row=True)


@dataclass(frozen=True)
class ImportPreview:
    """What a file would do, read and checked row by row, with nothing written."""

    kind: str
    rows: int
    good: int
    problems: list[RowProblem]


def validate_import(kind: str, lines: Iterable[str], hasher: Hasher, *, now: datetime | None = None) -> ImportPreview:
    """Check every row as the importer would (fields, duplicates in the file), writing nothing. Whether a
    row's citizen or case exists is known only when it is applied. Raises ImportFileError as importing does."""
    readers: dict[str, tuple[Reader, Parser[Any]]] = {
        "citizens": (partial(read_csv, columns=CITIZEN_COLUMNS), parse_citizen),
        "cases": (read_jsonl, parse_case),
        "rulings": (read_jsonl, partial(parse_ruling, today=tehran_date(now or utcnow()))),
        "subscribers": (partial(read_csv, columns=SUBSCRIBER_COLUMNS), parse_subscriber),
    }
    reader, parse = readers[kind]
    problems: list[RowProblem] = []
    first_line_of: dict[Hashable, int] = {}
    rows = good = 0
    for item in reader(lines):
        rows += 1
        if isinstance(item, RowProblem):
            problems.append(item)
            continue
        line, fields = item
        try:
            row = parse(line, fields, hasher)
        except RowError as error:
            problems.append(RowProblem(line, str(error)))
            continue
        first = first_line_of.setdefault(row.key, line)
        if first != line:
            problems.append(RowProblem(line, msg.duplicate_in_file(KEY_FIELDS[type(row)], first)))
            continue
        good += 1
    return ImportPreview(kind, rows, good, sorted(problems, key=lambda p: p.line))


class Importer(Protocol):
    def __call__(self, db: Database, hasher: Hasher, lines: Iterable[str], *, total: int | None = ...,
                 progress: Progress | None = ..., batch_size: int = ..., now: datetime | None = ...,
                 actor: str = ..., source: str = ...) -> Awaitable[ImportReport]: ...


IMPORTERS: Mapping[str, Importer] = MappingProxyType({
    "citizens": import_citizens,
    "cases": import_cases,
    "rulings": import_rulings,
    "subscribers": import_subscribers,
})
