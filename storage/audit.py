"""The audit trail and authentication attempts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent, AuthAttempt


def record_event(session: AsyncSession, *, actor: str, action: str, subject: str = "",
                 detail: dict[str, Any] | None = None, at: datetime) -> None:
    session.add(AuditEvent(actor=actor, action=action, subject=subject,
                           detail=json.dumps(detail or {}, ensure_ascii=False), at=at))


async def has_event(session: AsyncSession, *, actor: str, action: str) -> bool:
    result = await session.exec(
        select(AuditEvent.id).where(AuditEvent.actor == actor, AuditEvent.action == action).limit(1))
    return result.first() is not None


def record_auth_attempt(session: AsyncSession, *, platform: str, chat_id: int, nid_hash: str | None,
                        succeeded: bool, reason: str, at: datetime) -> None:
    session.add(AuthAttempt(platform=platform, chat_id=chat_id, nid_hash=nid_hash, succeeded=succeeded,
                            reason=reason, at=at))


async def count_failures_for_chat(session: AsyncSession, platform: str, chat_id: int, since: datetime) -> int:
    result = await session.exec(
        select(func.count()).select_from(AuthAttempt).where(
            AuthAttempt.platform == platform, AuthAttempt.chat_id == chat_id,
            col(AuthAttempt.succeeded).is_(False), col(AuthAttempt.at) >= since)
    )
    return int(result.one())


async def failures_on_nid(session: AsyncSession, nid_hash: str, since: datetime) -> tuple[int, int]:
    """(how many different chats, how many failures) on one national ID since `since`."""
    result = await session.exec(
        select(AuthAttempt.platform, AuthAttempt.chat_id).where(
            AuthAttempt.nid_hash == nid_hash, col(AuthAttempt.succeeded).is_(False),
            col(AuthAttempt.at) >= since)
    )
    rows = result.all()
    return len(set(rows)), len(rows)


async def event_since(session: AsyncSession, *, action: str, subject: str, ref: str, since: datetime) -> bool:
    """Whether an event `action` on `subject` whose detail carries `ref` was recorded since `since`."""
    result = await session.exec(
        select(AuditEvent.detail).where(AuditEvent.action == action, AuditEvent.subject == subject,
                                        col(AuditEvent.at) >= since))
    return any(json.loads(detail or "{}").get("ref") == ref for detail in result.all())
