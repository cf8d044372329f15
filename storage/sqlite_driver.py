"""SQLAlchemy's aiosqlite dialect with one thread hop per statement instead of four or five.

aiosqlite runs each sqlite3 call on the connection's own thread; every call is a hop there and back
(a queue put, a thread wake-up, a self-pipe write and an event-loop wake-up). The stock adapter makes
four of them for one SELECT (cursor, execute, fetchall, close), and one for each COMMIT and each
pool-return ROLLBACK, even when no transaction is open. Measured with bench/conversation.py, an
answer made 34.6 hops, and the hops were most of the CPU of an answer on SQLite.

Here a statement is one call on the connection's thread (cursor, execute, fetch all rows, close),
and COMMIT or ROLLBACK is skipped when sqlite3 says no transaction is open: exactly what sqlite3
itself does then (its commit and rollback are no-ops outside a transaction), minus the hop. Server-side
cursors (`stream_results`) keep the stock behaviour. The dialect is registered as
`sqlite+eblagh_aiosqlite`; storage.database picks it for every SQLite URL.

It leans on aiosqlite's `Connection._execute(fn)`, the one door onto the connection's thread, which
SQLAlchemy's own adapter uses as well; tests/storage/test_sqlite_driver.py pins the behaviour.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_

DRIVER = "eblagh_aiosqlite"
Rows = list[Any]


def _run_statement(connection: sqlite3.Connection, operation: str, parameters: Any,
                   many: bool) -> tuple[Any, Rows, int, int | None]:
    """On the connection's thread: the whole statement, and what the caller will ask of its cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor:
    """A buffered DB-API cursor whose statement runs in one call on the connection's thread."""

    server_side = False
    __slots__ = ("_adapt_connection", "_rows", "description", "rowcount", "lastrowid", "arraysize")

    def __init__(self, adapt_connection: OneHopConnection) -> None:
        self._adapt_connection = adapt_connection
        self._rows: collections.deque[Any] = collections.deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(operation, seq_of_parameters, many=True)

    def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapt = self._adapt_connection
        try:
            self.description, rows, self.rowcount, self.lastrowid = await_(adapt.run_on_thread(
                _run_statement, operation, parameters, many))
        except Exception as error:
            adapt._handle_exception(error)
        self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        """Nothing to close on the thread: the sqlite3 cursor was closed after its statement."""

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        return None  # sqlite3 has one result set per statement

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def __enter__(self) -> OneHopCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def fetchone(self) -> Any | None:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    async def run_on_thread(self, fn: Any, *args: Any) -> Any:
        async with self._execute_mutex:
            connection = self._connection
            return await connection._execute(lambda: fn(connection._conn, *args))

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            return super().cursor(server_side=True)
        return OneHopCursor(self)

    def _in_transaction(self) -> bool:
        # sqlite3 answers this from the connection's own state, safely off its thread.
        raw = self._connection._connection
        return raw is not None and raw.in_transaction

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


class OneHopDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True  # nothing here changes how SQL is compiled

    @classmethod
    def import_dbapi(cls) -> OneHopDBAPI:  # type: ignore[override]
        return OneHopDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneHopDialect")
