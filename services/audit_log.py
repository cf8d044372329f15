"""The audit trail as staff read it in the dashboard, and the events the dashboard itself records."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.clock import Clock
from services.law.calendar import start_of_tehran_day
from storage import audit, audit_query
from storage.database import Database

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditLine:
    at: Any
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    lines: list[AuditLine]
    total: int
    page: int
    pages: int
    actors: list[str]
    actions: list[str]


class AuditLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(self, *, actor: str, action: str, subject: str = "", detail: dict[str, Any] | None = None) -> None:
        async with self._db.session() as session:
            audit.record_event(session, actor=actor, action=action, subject=subject, detail=detail, at=self._clock())

    async def page(self, *, actor: str | None = None, action: str | None = None, since: date | None = None,
                   until: date | None = None, page: int = 1) -> AuditPage:
        """Events newest first; `since` and `until` are Tehran days, both included."""
        page = max(1, page)
        async with self._db.session() as session:
            events, total = await audit_query.list_events(
                session, actor=actor or None, action=action or None,
                since=start_of_tehran_day(since) if since else None,
                until=start_of_tehran_day(until.fromordinal(until.toordinal() + 1)) if until else None,
                offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
            actors, actions = await audit_query.actors(session), await audit_query.actions(session)
        lines = []
        for event in events:
            try:
                detail = json.loads(event.detail or "{}")
            except ValueError:
                detail = {}
            lines.append(AuditLine(event.at, event.actor, event.action, event.subject,
                                   detail if isinstance(detail, dict) else {}))
        return AuditPage(lines, total, page, max(1, math.ceil(total / PAGE_SIZE)), actors, actions)
