"""Data access for the integration API: keys, idempotency records, webhooks, import jobs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import callbacks
from storage.api_models import (
    ApiEvent,
    ApiKey,
    IdempotencyRecord,
    ImportJob,
    Webhook,
)
from storage.models import Case, ChatBinding, Citizen, Message, MessageKind, Notice, Ruling

IDEMPOTENCY: Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
RULINGS: Table = Ruling.__table__  # type: ignore[attr-defined]
NOTICES: Table = Notice.__table__  # type: ignore[attr-defined]

# ---------------------------------------------------------------- keys


async def add_key(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    return key


async def key_by_name(session: AsyncSession, name: str) -> ApiKey | None:
    found = await session.execute(select(ApiKey).where(col(ApiKey.name) == name))  # type: ignore[deprecated]
    return found.scalars().first()


async def key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    found = await session.execute(select(ApiKey).where(col(ApiKey.key_hash) == key_hash))  # type: ignore[deprecated]
    return found.scalars().first()


async def get_key(session: AsyncSession, key_id: int) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    found = await session.execute(select(ApiKey).order_by(col(ApiKey.id)))  # type: ignore[deprecated]
    return list(found.scalars().all())


async def touch_key(session: AsyncSession, key_id: int, now: datetime) -> None:
    await session.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=now))  # type: ignore[deprecated]


# ---------------------------------------------------------------- idempotency


async def claim_idempotency(session: AsyncSession, key_id: int, key: str, request_hash: str,
                            now: datetime) -> IdempotencyRecord | None:
    """Record a new request under this key; None when it is new, else the existing record."""
    try:
        async with session.begin_nested():
            await session.execute(insert(IDEMPOTENCY).values(  # type: ignore[deprecated]
                api_key_id=key_id, key=key, request_hash=request_hash, created_at=now))
        return None
    except IntegrityError:
        pass
    found = await session.execute(  # type: ignore[deprecated]
        select(IdempotencyRecord).where(IDEMPOTENCY.c.api_key_id == key_id, IDEMPOTENCY.c.key == key))
    return found.scalars().first()


async def forget_idempotency(session: AsyncSession, record_id: int) -> None:
    await session.execute(delete(IDEMPOTENCY).where(IDEMPOTENCY.c.id == record_id))  # type: ignore[deprecated]


async def release_idempotency(session: AsyncSession, key_id: int, key: str) -> None:
    """The first request failed without an answer worth keeping: the key may be used again."""
    await session.execute(delete(IDEMPOTENCY).where(  # type: ignore[deprecated]
        IDEMPOTENCY.c.api_key_id == key_id, IDEMPOTENCY.c.key == key, IDEMPOTENCY.c.status_code.is_(None)))


async def finish_idempotency(session: AsyncSession, key_id: int, key: str, status_code: int, body: str) -> None:
    await session.execute(update(IDEMPOTENCY).where(  # type: ignore[deprecated]
        IDEMPOTENCY.c.api_key_id == key_id, IDEMPOTENCY.c.key == key).values(status_code=status_code, body=body))


async def expire_idempotency(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(IDEMPOTENCY).where(IDEMPOTENCY.c.created_at < before))  # type: ignore[deprecated]
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- rulings as the API reads them


async def ruling_with_notice(session: AsyncSession, ruling_id: str) -> tuple[Ruling, Case, Citizen, Notice | None, bool] | None:
    """The ruling, its case, citizen, notice, and whether it is a test ruling."""
    found = await session.execute(  # type: ignore[deprecated]
        select(Ruling, Case, Citizen, Notice, RULINGS.c.test)
        .join(Case, col(Case.id) == col(Ruling.case_id)).join(Citizen, col(Citizen.id) == col(Ruling.citizen_id))
        .outerjoin(Notice, col(Notice.ruling_pk) == col(Ruling.id)).where(col(Ruling.ruling_id) == ruling_id))
    row = found.first()
    if row is None:
        return None
    return row[0], row[1], row[2], row[3], bool(row[4])


async def deliveries_of(session: AsyncSession, notice_id: int) -> list[Message]:
    """The notice's messages to its chats."""
    found = await session.execute(  # type: ignore[deprecated]
        select(Message).where(col(Message.kind) == MessageKind.NOTICE.value, col(Message.ref_id) == notice_id)
        .order_by(col(Message.id)))
    return list(found.scalars().all())


async def notice_chats(session: AsyncSession, ruling_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """ruling_id -> one entry per delivery made and per active bound chat of its citizen without one:
    {platform, status (the delivery's; `queued` before one is made, `test` for a test ruling), delivery}."""
    if not ruling_ids:
        return {}
    rulings = await session.execute(  # type: ignore[deprecated]
        select(RULINGS.c.ruling_id, RULINGS.c.citizen_id, RULINGS.c.test, NOTICES.c.id)
        .join(NOTICES, NOTICES.c.ruling_pk == RULINGS.c.id).where(RULINGS.c.ruling_id.in_(list(ruling_ids))))
    rows = rulings.all()
    citizens = {int(r.citizen_id) for r in rows}
    notice_ids = [int(r.id) for r in rows]
    bindings = await session.execute(  # type: ignore[deprecated]
        select(col(ChatBinding.citizen_id), col(ChatBinding.platform), col(ChatBinding.chat_id))
        .where(col(ChatBinding.citizen_id).in_(citizens), col(ChatBinding.active).is_(True)))
    chats: dict[int, list[tuple[str, int]]] = {}
    for citizen_id, platform, chat_id in bindings.all():
        chats.setdefault(int(citizen_id), []).append((str(platform), int(chat_id)))
    sent = await session.execute(  # type: ignore[deprecated]
        select(col(Message.ref_id), col(Message.platform), col(Message.chat_id), col(Message.status))
        .where(col(Message.kind) == MessageKind.NOTICE.value, col(Message.ref_id).in_(notice_ids)))
    made: dict[int, dict[tuple[str, int], str]] = {}
    for notice_id, platform, chat_id, status in sent.all():
        made.setdefault(int(notice_id), {})[(str(platform), int(chat_id))] = str(status)
    result: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        deliveries = made.get(int(r.id), {})
        bound = chats.get(int(r.citizen_id), [])
        entries = [{"platform": platform, "status": status, "delivery": True}
                   for (platform, _chat), status in deliveries.items()]
        entries += [{"platform": platform, "status": "test" if r.test else "queued", "delivery": False}
                    for platform, chat in bound if (platform, chat) not in deliveries]
        result[str(r.ruling_id)] = entries
    return result


# ---------------------------------------------------------------- webhooks


async def add_webhook(session: AsyncSession, webhook: Webhook) -> Webhook:
    session.add(webhook)
    await session.flush()
    return webhook


async def webhooks_of(session: AsyncSession, key_id: int) -> list[Webhook]:
    found = await session.execute(  # type: ignore[deprecated]
        select(Webhook).where(col(Webhook.api_key_id) == key_id, col(Webhook.deleted_at).is_(None))
        .order_by(col(Webhook.id)))
    return list(found.scalars().all())


async def all_webhooks(session: AsyncSession) -> list[tuple[Webhook, str]]:
    """Every key's endpoints that are not deleted, with their key's name, oldest first."""
    found = await session.execute(  # type: ignore[deprecated]
        select(Webhook, col(ApiKey.name)).join(ApiKey, col(ApiKey.id) == col(Webhook.api_key_id))
        .where(col(Webhook.deleted_at).is_(None)).order_by(col(Webhook.id)))
    return [(hook, str(name)) for hook, name in found.all()]


async def get_webhook(session: AsyncSession, webhook_id: int) -> Webhook | None:
    return await session.get(Webhook, webhook_id)


async def delete_webhook(session: AsyncSession, webhook_id: int, now: datetime) -> None:
    """Stop it: inactive, marked deleted; what was queued for it is failed (nothing more is sent)."""
    await session.execute(update(Webhook).where(col(Webhook.id) == webhook_id)  # type: ignore[deprecated]
                          .values(active=False, deleted_at=now))
    await callbacks.fail_queued(session, webhook_id, "endpoint deleted")


# ---------------------------------------------------------------- import jobs


async def add_job(session: AsyncSession, job: ImportJob) -> ImportJob:
    session.add(job)
    await session.flush()
    return job


async def get_job(session: AsyncSession, job_id: int) -> ImportJob | None:
    return await session.get(ImportJob, job_id)


async def update_job(session: AsyncSession, job_id: int, **values: Any) -> None:
    if "errors" in values and not isinstance(values["errors"], str):
        values["errors"] = json.dumps(values["errors"], ensure_ascii=False)
    await session.execute(update(ImportJob).where(col(ImportJob.id) == job_id).values(**values))  # type: ignore[deprecated]


async def count_events(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(ApiEvent))).scalar_one())  # type: ignore[deprecated]
