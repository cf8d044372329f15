"""The integration API's event feed (`api_events`) and its fan-out to callback endpoints.

`append` is called in the transaction that records the fact (storage/messages.py mark_sent of a notice,
and mark_final of a notice that failed or was blocked; notices.py record_first_view, duties.py
record_deemed, citizens.py bind_chat), before the proof chain's append, so the event exists exactly when
the fact does. In the same transaction every active webhook subscribed to the event's type gets a
queued message of the callback lane (storage/callbacks.py): a callback is as durable as the fact it reports.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import callbacks
from storage.api_models import ApiEvent, EventType
from storage.models import Case, Notice, Ruling

EVENTS: Table = ApiEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NewEvent:
    type: EventType
    occurred_at: datetime
    notice_id: int | None = None  # the ruling and case are looked up from it
    data: dict[str, Any] = field(default_factory=dict)


async def append(session: AsyncSession, events: Sequence[NewEvent]) -> list[int]:
    """Record these events and queue their callbacks, in the caller's transaction; their ids."""
    if not events:
        return []
    notice_ids = sorted({e.notice_id for e in events if e.notice_id is not None})
    owners: dict[int, tuple[str, str]] = {}
    if notice_ids:
        notices, rulings, cases = (Notice.__table__, Ruling.__table__, Case.__table__)  # type: ignore[attr-defined]
        found = await session.execute(  # type: ignore[deprecated]
            select(notices.c.id, rulings.c.ruling_id, cases.c.case_number)
            .join(rulings, rulings.c.id == notices.c.ruling_pk).join(cases, cases.c.id == rulings.c.case_id)
            .where(notices.c.id.in_(notice_ids)))
        owners = {int(n): (str(r), str(c)) for n, r, c in found.all()}
    ids: list[int] = []
    for event in events:  # one by one: RETURNING with executemany is not portable
        ruling_id, case_number = owners.get(event.notice_id, (None, None)) if event.notice_id else (None, None)
        result = await session.execute(  # type: ignore[deprecated]
            insert(EVENTS).values(type=event.type.value, occurred_at=event.occurred_at, notice_id=event.notice_id,
                                  ruling_id=ruling_id, case_number=case_number,
                                  data=json.dumps(event.data, ensure_ascii=False, sort_keys=True))
            .returning(EVENTS.c.id))
        ids.append(int(result.scalar_one()))
    await callbacks.queue_for_events(session, ids, max(e.occurred_at for e in events))
    return ids


async def page(session: AsyncSession, *, after: int, limit: int) -> list[ApiEvent]:
    """Events with id > after, in id order (the cursor is the last id seen)."""
    result = await session.execute(  # type: ignore[deprecated]
        select(ApiEvent).where(EVENTS.c.id > after).order_by(EVENTS.c.id).limit(limit))
    return list(result.scalars().all())


async def get(session: AsyncSession, event_id: int) -> ApiEvent | None:
    return await session.get(ApiEvent, event_id)
