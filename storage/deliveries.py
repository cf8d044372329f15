"""Data access for deliveries: the database is the source of truth for what was sent to whom.

A delivery moves queued -> sending (claimed by one sender) -> sent | failed | blocked, or back to
queued with a later `next_attempt_at`. Claiming is a conditional UPDATE, so two processes never
send the same (notice, chat). The verbs both delivery engines share (claim, retry, final, releasing
stale claims) are in storage/outbox.py, lane `Lane.NOTICE`; here are the ones particular to notices.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, insert, literal, update
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import api_events, proof
from storage.api_models import EventType
from storage.models import ChatBinding, Delivery, DeliveryStatus, Notice
from storage.proof import ProofEvent
from storage.proof_models import ProofKind
from storage.types import UTCDateTime


async def enqueue_due(session: AsyncSession, now: datetime, citizen_id: int | None = None) -> int:
    """Queue a delivery for every (notice, active reachable chat of its citizen) that has none yet."""
    source = (
        sa_select(
            col(Notice.id), col(ChatBinding.platform), col(ChatBinding.chat_id),
            literal(DeliveryStatus.QUEUED.value), literal(0), literal(now, type_=UTCDateTime()),
        )
        .join(ChatBinding, col(ChatBinding.citizen_id) == col(Notice.citizen_id))
        .where(
            Notice.__table__.c.test.is_(False),  # type: ignore[attr-defined]  # integration API: a `--test` key's rulings are never sent
            col(ChatBinding.active).is_(True),
            col(ChatBinding.unreachable_at).is_(None),
            ~exists().where(
                col(Delivery.notice_id) == col(Notice.id),
                col(Delivery.platform) == col(ChatBinding.platform),
                col(Delivery.chat_id) == col(ChatBinding.chat_id),
            ),
        )
    )
    if citizen_id is not None:
        source = source.where(col(Notice.citizen_id) == citizen_id)
    statement = insert(Delivery).from_select(
        ["notice_id", "platform", "chat_id", "status", "attempts", "created_at"], source
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)


async def mark_sent(session: AsyncSession, delivery_id: int, notice_id: int, message_id: int,
                    now: datetime) -> None:
    sent = await session.execute(  # type: ignore[deprecated]
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(status=DeliveryStatus.SENT.value, message_id=message_id, sent_at=now,
                attempts=Delivery.attempts + 1, last_error=None)
        .returning(col(Delivery.platform), col(Delivery.chat_id))
    )
    chat = sent.first()
    # The first accepted delivery starts the deemed-service clock.
    await session.exec(
        update(Notice)  # type: ignore[call-overload]
        .where(col(Notice.id) == notice_id, col(Notice.first_delivered_at).is_(None))
        .values(first_delivered_at=now)
    )
    if chat is not None:
        await api_events.append(session, [api_events.NewEvent(
            EventType.NOTICE_DELIVERED, now, notice_id, {"platform": str(chat.platform)})])
        await proof.append(session, [ProofEvent(ProofKind.DELIVERED, notice_id, now, delivery_id,
                                                str(chat.platform), int(chat.chat_id))])


async def requeue_blocked_for_chat(session: AsyncSession, platform: str, chat_id: int) -> int:
    """The citizen wrote again after blocking: what was blocked may go now."""
    result = await session.exec(
        update(Delivery)  # type: ignore[call-overload]
        .where(col(Delivery.platform) == platform, col(Delivery.chat_id) == chat_id,
               col(Delivery.status) == DeliveryStatus.BLOCKED.value)
        .values(status=DeliveryStatus.QUEUED.value, next_attempt_at=None)
    )
    return int(result.rowcount or 0)

