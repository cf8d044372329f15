"""Bot API updates already handled, by bot (platform:bot id) and update_id: plain verb-named functions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import HandledUpdate

# Telegram keeps an unconfirmed update for 24 hours; marks are kept a good while longer (here and on Redis).
KEEP_MARKS = timedelta(days=3)


async def is_handled(session: AsyncSession, bot: str, update_id: int) -> bool:
    found = await session.exec(select(HandledUpdate.update_id).where(
        HandledUpdate.bot == bot, HandledUpdate.update_id == update_id))
    return found.first() is not None


async def handled_among(session: AsyncSession, bot: str, update_ids: list[int]) -> set[int]:
    """Which of these updates were handled: one query for a polled batch."""
    found = await session.exec(select(HandledUpdate.update_id).where(
        HandledUpdate.bot == bot, col(HandledUpdate.update_id).in_(update_ids)))
    return set(found.all())


async def mark_handled(session: AsyncSession, bot: str, update_id: int, now: datetime) -> None:
    """Idempotent: a second mark of the same update changes nothing (one INSERT ... ON CONFLICT DO NOTHING)."""
    insert = postgresql.insert if session.bind is not None and session.bind.dialect.name == "postgresql" \
        else sqlite.insert
    statement = insert(HandledUpdate).values(bot=bot, update_id=update_id, handled_at=now)
    await session.exec(statement.on_conflict_do_nothing(index_elements=["bot", "update_id"]))  # type: ignore[call-overload]


async def forget_before(session: AsyncSession, before: datetime) -> int:
    """Drop marks older than any update the Bot API could still send again (it keeps them 24 h)."""
    statement = delete(HandledUpdate).where(HandledUpdate.handled_at < before)  # type: ignore[arg-type]
    result = await session.exec(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)
