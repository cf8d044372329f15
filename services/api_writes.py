"""Writes of the integration API: citizens, cases and rulings as JSON items, through the importers' code
path (services/imports.py `import_items`: the same fields, checks and writers as the import files), with
an answer per item: inserted | updated | unchanged | rejected, its id, and for a rejected one the field
and the reason (English and Persian). Rulings also carry their notices: one per bound chat, none yet when
the citizen has bound no chat. A `--test` key's rulings are stored as test rulings, never sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.api_keys import KeyInfo
from services.api_reads import notice_status
from services.clock import Clock
from services.imports.importer import ITEM_KINDS, import_items
from services.privacy import Hasher
from storage import api_store
from storage.database import Database

MAX_ITEMS = 1000
_KEY_FIELD = {"cases": "case_number", "rulings": "ruling_id"}


class WriteFailed(RuntimeError):
    """The database failed mid-request: nothing of the request was applied."""


@dataclass
class ItemResult:
    index: int
    status: str  # inserted | updated | unchanged | rejected
    id: str | None
    errors: list[dict[str, str]] = field(default_factory=list)
    notices: list[dict[str, Any]] | None = None  # rulings only

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.index, "status": self.status, "id": self.id, "errors": self.errors}
        if self.notices is not None:
            body["notices"] = self.notices
        return body


def _raw_id(kind: str, item: Any) -> str | None:
    """The id a rejected item gave, as given (never a national ID: citizens show only a masked one)."""
    name = _KEY_FIELD.get(kind)
    if name is None or not isinstance(item, Mapping):
        return None
    value = item.get(name)
    return str(value)[:64] if isinstance(value, str | int) and not isinstance(value, bool) else None


class IngestService:
    def __init__(self, db: Database, hasher: Hasher, clock: Clock) -> None:
        self._db = db
        self._hasher = hasher
        self._clock = clock

    async def write(self, kind: str, items: Sequence[Mapping[str, Any]], *, key: KeyInfo) -> list[ItemResult]:
        if kind not in ITEM_KINDS:
            raise ValueError(kind)
        report = await import_items(self._db, self._hasher, kind, items, now=self._clock(),
                                    actor=f"api:{key.name}", source=f"api {kind}", test=key.test)
        if not report.completed:
            raise WriteFailed(report.failure or "database error")
        problems = {p.line: p for p in report.problems}
        outcomes, keys = report.outcomes or {}, report.keys or {}
        results: list[ItemResult] = []
        for index, item in enumerate(items):
            line = index + 1
            problem = problems.get(line)
            if problem is not None:
                results.append(ItemResult(index, "rejected", keys.get(line) or _raw_id(kind, item), [
                    {"field": problem.field, "reason": problem.reason_en or problem.reason,
                     "reason_fa": problem.reason}]))
            else:
                results.append(ItemResult(index, outcomes.get(line, "unchanged"), keys.get(line)))
        if kind == "rulings":
            kept = [r.id for r in results if r.status != "rejected" and r.id]
            async with self._db.session() as session:
                chats = await api_store.notice_chats(session, kept)
            for result in results:
                entries = chats.get(result.id or "", []) if result.status != "rejected" else []
                result.notices = [{"platform": c["platform"], "status": notice_status(c["status"])} for c in entries]
        return results
