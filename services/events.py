"""The integration API's event feed: `/v1/events?after=CURSOR&limit=N`, and the object both the feed
and the callbacks carry: `{id, type, occurred_at, ruling_id, case_number, data}`.

Events are recorded by storage (storage/api_events.py) in the transactions of the facts themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage import api_events
from storage.api_models import ApiEvent
from storage.database import Database

MAX_PAGE = 1000


def event_object(event: ApiEvent) -> dict[str, Any]:
    return {"id": event.id, "type": event.type, "occurred_at": event.occurred_at.isoformat(),
            "ruling_id": event.ruling_id, "case_number": event.case_number, "data": json.loads(event.data or "{}")}


@dataclass(frozen=True)
class EventPage:
    events: list[dict[str, Any]]
    next: int  # the cursor to ask with next (the last id seen; the same cursor when nothing is new)


class EventFeed:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def page(self, after: int = 0, limit: int = 100) -> EventPage:
        limit = max(1, min(limit, MAX_PAGE))
        async with self._db.session() as session:
            events = await api_events.page(session, after=max(after, 0), limit=limit)
        return EventPage([event_object(e) for e in events], events[-1].id or after if events else max(after, 0))
