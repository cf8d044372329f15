"""Data access for citizens and their chat bindings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import api_events
from storage.api_models import EventType
from storage.models import ChatBinding, Citizen


async def get_citizen(session: AsyncSession, citizen_id: int) -> Citizen | None:
    return await session.get(Citizen, citizen_id)


async def find_citizen_by_nid_hash(session: AsyncSession, nid_hash: str) -> Citizen | None:
    result = await session.exec(select(Citizen).where(Citizen.nid_hash == nid_hash))
    return result.first()


async def find_binding(session: AsyncSession, platform: str, chat_id: int) -> ChatBinding | None:
    result = await session.exec(
        select(ChatBinding).where(ChatBinding.platform == platform, ChatBinding.chat_id == chat_id)
    )
    return result.first()


async def find_active_binding(session: AsyncSession, platform: str, chat_id: int) -> ChatBinding | None:
    binding = await find_binding(session, platform, chat_id)
    return binding if binding is not None and binding.active else None


async def bind_chat(
    session: AsyncSession, citizen_id: int, platform: str, chat_id: int, user_id: int | None, now: datetime,
    auth_proof: str | None = None,
) -> ChatBinding:
    """Bind a chat to a citizen, replacing whoever it was bound to before."""
    binding = await find_binding(session, platform, chat_id)
    if binding is None:
        binding = ChatBinding(citizen_id=citizen_id, platform=platform, chat_id=chat_id, user_id=user_id,
                              bound_at=now, auth_proof=auth_proof)
    else:
        binding.citizen_id = citizen_id
        binding.user_id = user_id
        binding.auth_proof = auth_proof
        binding.active = True
        binding.bound_at = now
        binding.unbound_at = None
        binding.unreachable_at = None
        binding.fanned_out_at = None  # its citizen's notices are queued for it (again)
    session.add(binding)
    await session.flush()
    citizen = await session.get(Citizen, citizen_id)
    await api_events.append(session, [api_events.NewEvent(
        EventType.CITIZEN_BOUND, now, None,
        {"platform": platform, "national_id_masked": citizen.nid_masked if citizen else None})])
    return binding


async def unbind_chat(session: AsyncSession, platform: str, chat_id: int, now: datetime) -> ChatBinding | None:
    binding = await find_active_binding(session, platform, chat_id)
    if binding is not None:
        binding.active = False
        binding.unbound_at = now
        session.add(binding)
    return binding


async def mark_unreachable(session: AsyncSession, platform: str, chat_id: int, now: datetime) -> None:
    await session.exec(
        update(ChatBinding)  # type: ignore[call-overload]
        .where(col(ChatBinding.platform) == platform, col(ChatBinding.chat_id) == chat_id)
        .values(unreachable_at=now)
    )


@dataclass(frozen=True)
class ChatReach:
    citizen_id: int | None  # whom the chat is bound to (None: not bound)
    unreachable: bool  # it blocked the bot, as far as deliveries know


# Read on every incoming update: a Core statement built once, three columns.
_BINDINGS: Table = ChatBinding.__table__  # type: ignore[attr-defined]
_CHAT_REACH = (sa_select(_BINDINGS.c.citizen_id, _BINDINGS.c.active, _BINDINGS.c.unreachable_at)
               .where(_BINDINGS.c.platform == bindparam("platform"), _BINDINGS.c.chat_id == bindparam("chat_id")))


async def chat_reach(session: AsyncSession, platform: str, chat_id: int) -> ChatReach:
    """The chat's citizen, and whether deliveries to it were held back."""
    connection = await session.connection()
    row = (await connection.execute(_CHAT_REACH, {"platform": platform, "chat_id": chat_id})).first()
    if row is None:
        return ChatReach(None, False)
    citizen_id, active, unreachable_at = row
    return ChatReach(citizen_id if active else None, unreachable_at is not None)


async def mark_reachable(session: AsyncSession, platform: str, chat_id: int) -> bool:
    """The citizen wrote again: deliveries to this chat may resume. True when it was unreachable."""
    binding = await find_binding(session, platform, chat_id)
    if binding is None or binding.unreachable_at is None:
        return False
    binding.unreachable_at = None
    binding.fanned_out_at = None  # notices that came while it was unreachable are queued now
    session.add(binding)
    return True


async def list_active_bindings(session: AsyncSession, citizen_id: int) -> list[ChatBinding]:
    result = await session.exec(
        select(ChatBinding).where(ChatBinding.citizen_id == citizen_id, col(ChatBinding.active).is_(True))
    )
    return list(result.all())
