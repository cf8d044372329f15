"""Set-at-a-time reads and writes for the importers: one IN query or one executemany per batch.

Rows go in as plain mappings of column values (no ORM objects: 100,000 rulings must import in
seconds). Upserts use the dialect's `INSERT ... ON CONFLICT`, and an update only touches a row whose
values differ, so re-importing the same file leaves `updated_at` alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, bindparam, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, ChatBinding, Citizen, Notice, Ruling

CITIZENS: Table = Citizen.__table__  # type: ignore[attr-defined]
CASES: Table = Case.__table__  # type: ignore[attr-defined]
RULINGS: Table = Ruling.__table__  # type: ignore[attr-defined]
NOTICES: Table = Notice.__table__  # type: ignore[attr-defined]
BINDINGS: Table = ChatBinding.__table__  # type: ignore[attr-defined]

CITIZEN_FIELDS = ("nid_masked", "mobile_hash", "mobile_masked", "full_name", "district")
CASE_FIELDS = ("citizen_id", "status", "district", "address", "violation", "hearing_at")
RULING_CONTENT = ("case_id", "citizen_id", "commission", "kind", "issued_on", "fine_amount_rials", "summary",
                  "text")


async def _connection(session: AsyncSession) -> AsyncConnection:
    return await session.connection()


async def _where_in(session: AsyncSession, columns: Sequence[ColumnElement[Any]], key: ColumnElement[Any],
                    values: Collection[Any]) -> Sequence[Row[Any]]:
    """The `columns` of the rows whose `key` is among `values`: one IN query, none for no values."""
    if not values:
        return []
    conn = await _connection(session)
    return (await conn.execute(select(*columns).where(key.in_(list(values))))).all()


def _insert(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _upsert(conn: AsyncConnection, table: Table, key: str, fields: Sequence[str]) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE the fields and updated_at, only where one differs."""
    stmt = _insert(conn, table)
    changed = or_(*(table.c[name].is_distinct_from(stmt.excluded[name]) for name in fields))
    values = {name: stmt.excluded[name] for name in (*fields, "updated_at")}
    return stmt.on_conflict_do_update(index_elements=[key], set_=values, where=changed)


# ---------------------------------------------------------------- citizens


async def citizens_by_nid_hash(session: AsyncSession, hashes: Collection[str]) -> dict[str, dict[str, Any]]:
    """Existing citizens among `hashes`: nid_hash -> {id, nid_hash, *CITIZEN_FIELDS}."""
    columns = [CITIZENS.c.id, CITIZENS.c.nid_hash, *(CITIZENS.c[name] for name in CITIZEN_FIELDS)]
    rows = await _where_in(session, columns, CITIZENS.c.nid_hash, hashes)
    return {row.nid_hash: dict(row._mapping) for row in rows}


async def citizen_ids_by_nid_hash(session: AsyncSession, hashes: Collection[str]) -> dict[str, int]:
    rows = await _where_in(session, [CITIZENS.c.nid_hash, CITIZENS.c.id], CITIZENS.c.nid_hash, hashes)
    return {row.nid_hash: row.id for row in rows}


async def upsert_citizens(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows hold nid_hash, CITIZEN_FIELDS, created_at and updated_at."""
    if rows:
        conn = await _connection(session)
        await conn.execute(_upsert(conn, CITIZENS, "nid_hash", CITIZEN_FIELDS), list(rows))


# ---------------------------------------------------------------- cases


async def cases_by_number(session: AsyncSession, numbers: Collection[str]) -> dict[str, dict[str, Any]]:
    """Existing cases among `numbers`: case_number -> {id, case_number, *CASE_FIELDS}."""
    columns = [CASES.c.id, CASES.c.case_number, *(CASES.c[name] for name in CASE_FIELDS)]
    rows = await _where_in(session, columns, CASES.c.case_number, numbers)
    return {row.case_number: dict(row._mapping) for row in rows}


async def case_owners(session: AsyncSession, numbers: Collection[str]) -> dict[str, tuple[int, int]]:
    """case_number -> (case id, citizen id)."""
    rows = await _where_in(session, [CASES.c.case_number, CASES.c.id, CASES.c.citizen_id], CASES.c.case_number,
                           numbers)
    return {row.case_number: (row.id, row.citizen_id) for row in rows}


async def upsert_cases(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows hold case_number, CASE_FIELDS, created_at and updated_at."""
    if rows:
        conn = await _connection(session)
        await conn.execute(_upsert(conn, CASES, "case_number", CASE_FIELDS), list(rows))


# ---------------------------------------------------------------- rulings and notices


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def ruling_content_hash(values: Mapping[str, Any]) -> str:
    """sha256 over what a ruling says and whose it is (RULING_CONTENT), as stored."""
    payload = json.dumps([_jsonable(values[name]) for name in RULING_CONTENT], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


async def ruling_hashes(session: AsyncSession, ruling_ids: Collection[str]) -> dict[str, str]:
    """Existing rulings among `ruling_ids`: ruling_id -> content hash.

    Rulings written by other paths have no stored hash; theirs is computed from the stored columns.
    """
    hashes: dict[str, str] = {}
    unhashed: list[str] = []
    for row in await _where_in(session, [RULINGS.c.ruling_id, RULINGS.c.content_hash], RULINGS.c.ruling_id,
                               ruling_ids):
        if row.content_hash:
            hashes[row.ruling_id] = row.content_hash
        else:
            unhashed.append(row.ruling_id)
    columns = [RULINGS.c.ruling_id, *(RULINGS.c[name] for name in RULING_CONTENT)]
    for row in await _where_in(session, columns, RULINGS.c.ruling_id, unhashed):
        hashes[row.ruling_id] = ruling_content_hash(dict(row._mapping))
    return hashes


async def insert_rulings_with_notices(session: AsyncSession, rows: Sequence[Mapping[str, Any]],
                                      now: datetime) -> list[str]:
    """Insert the rulings that are absent and a Notice for each one inserted; their ruling_ids.

    Rows hold ruling_id, RULING_CONTENT, content_hash, created_at and optionally test. A ruling some other import
    inserted meanwhile is skipped by ON CONFLICT, and so gets no second notice.
    """
    if not rows:
        return []
    conn = await _connection(session)
    stmt = (_insert(conn, RULINGS).on_conflict_do_nothing(index_elements=["ruling_id"])
            .returning(RULINGS.c.id, RULINGS.c.ruling_id, RULINGS.c.citizen_id))
    inserted = (await conn.execute(stmt, list(rows))).all()
    if inserted:
        notices = [{"ruling_pk": row.id, "citizen_id": row.citizen_id, "created_at": now} for row in inserted]
        if rows[0].get("test"):  # a test ruling's notice is a test notice: delivery never queues it
            notices = [{**notice, "test": True} for notice in notices]
        await conn.execute(_insert(conn, NOTICES).on_conflict_do_nothing(index_elements=["ruling_pk"]), notices)
    return [row.ruling_id for row in inserted]


# ---------------------------------------------------------------- chat bindings


async def bindings_by_chat(session: AsyncSession,
                           chats: Collection[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Existing bindings of (platform, chat_id) pairs, active or not."""
    columns = [BINDINGS.c.id, BINDINGS.c.platform, BINDINGS.c.chat_id, BINDINGS.c.citizen_id,
               BINDINGS.c.user_id, BINDINGS.c.active]
    rows = await _where_in(session, columns, tuple_(BINDINGS.c.platform, BINDINGS.c.chat_id), chats)
    return {(row.platform, row.chat_id): dict(row._mapping) for row in rows}


async def insert_bindings(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert active bindings (citizen_id, platform, chat_id, user_id, bound_at); a chat bound
    meanwhile is left as it is. Returns how many were inserted."""
    if not rows:
        return 0
    conn = await _connection(session)
    values = [{**row, "active": True} for row in rows]
    stmt = (_insert(conn, BINDINGS).on_conflict_do_nothing(index_elements=["platform", "chat_id"])
            .returning(BINDINGS.c.id))
    return len((await conn.execute(stmt, values)).all())


async def set_binding_user_ids(session: AsyncSession, updates: Sequence[tuple[int, int]]) -> None:
    """(binding id, user_id) pairs."""
    if updates:
        conn = await _connection(session)
        stmt = BINDINGS.update().where(BINDINGS.c.id == bindparam("binding_id")).values(user_id=bindparam("new_user_id"))
        await conn.execute(stmt, [{"binding_id": bid, "new_user_id": uid} for bid, uid in updates])
