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


async def count_failures_for_nid(session: AsyncSession, nid_hash: str, since: datetime) -> int:
    result = await session.exec(
        select(func.count()).select_from(AuthAttempt).where(
            AuthAttempt.nid_hash == nid_hash, col(AuthAttempt.succeeded).is_(False),
            col(AuthAttempt.at) >= since)
    )
    return int(result.one())
