"""Reading the audit trail for the dashboard: filtered by person, action and time, newest first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent


async def list_events(session: AsyncSession, *, actor: str | None, action: str | None, since: datetime | None,
                      until: datetime | None, offset: int, limit: int) -> tuple[list[AuditEvent], int]:
    conditions = []
    if actor:
        conditions.append(col(AuditEvent.actor) == actor)
    if action:
        conditions.append(col(AuditEvent.action).startswith(action))
    if since is not None:
        conditions.append(col(AuditEvent.at) >= since)
    if until is not None:
        conditions.append(col(AuditEvent.at) < until)
    total = int((await session.execute(sa_select(func.count()).select_from(AuditEvent).where(*conditions)))
                .scalar() or 0)
    rows = await session.exec(select(AuditEvent).where(*conditions)
                              .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).offset(offset).limit(limit))
    return list(rows.all()), total


async def actions(session: AsyncSession) -> list[str]:
    result = await session.execute(sa_select(col(AuditEvent.action)).distinct().order_by(col(AuditEvent.action)))
    return [str(a) for a in result.scalars().all()]


async def actors(session: AsyncSession, prefix: str = "staff:") -> list[str]:
    result = await session.execute(sa_select(col(AuditEvent.actor)).where(col(AuditEvent.actor).startswith(prefix))
                                   .distinct().order_by(col(AuditEvent.actor)))
    return [str(a) for a in result.scalars().all()]
