"""Data access for staff accounts, their sessions and the imports started from the dashboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.staff_models import StaffAccount, StaffSession, StaffUpload


async def get_account(session: AsyncSession, staff_id: int) -> StaffAccount | None:
    return await session.get(StaffAccount, staff_id)


async def find_account(session: AsyncSession, username: str) -> StaffAccount | None:
    result = await session.exec(select(StaffAccount).where(StaffAccount.username == username))
    return result.first()


async def list_accounts(session: AsyncSession) -> list[StaffAccount]:
    result = await session.exec(select(StaffAccount).order_by(col(StaffAccount.username)))
    return list(result.all())


async def add_session(session: AsyncSession, record: StaffSession) -> None:
    session.add(record)


async def get_session(session: AsyncSession, token_hash: str) -> StaffSession | None:
    return await session.get(StaffSession, token_hash)


async def touch_session(session: AsyncSession, token_hash: str, at: datetime) -> None:
    await session.exec(update(StaffSession).where(col(StaffSession.token_hash) == token_hash)  # type: ignore[call-overload]
                       .values(last_seen_at=at))


async def delete_session(session: AsyncSession, token_hash: str) -> None:
    await session.exec(delete(StaffSession).where(col(StaffSession.token_hash) == token_hash))  # type: ignore[call-overload]


async def delete_sessions_of(session: AsyncSession, staff_id: int) -> None:
    await session.exec(delete(StaffSession).where(col(StaffSession.staff_id) == staff_id))  # type: ignore[call-overload]


async def add_upload(session: AsyncSession, upload: StaffUpload) -> StaffUpload:
    session.add(upload)
    await session.flush()
    return upload


async def get_upload(session: AsyncSession, upload_id: int) -> StaffUpload | None:
    return await session.get(StaffUpload, upload_id)


async def recent_uploads(session: AsyncSession, limit: int = 20) -> list[StaffUpload]:
    result = await session.exec(select(StaffUpload).order_by(col(StaffUpload.created_at).desc(),
                                                             col(StaffUpload.id).desc()).limit(limit))
    return list(result.all())
