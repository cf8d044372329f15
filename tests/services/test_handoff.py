"""Handoffs to staff: every part of a forwarded question routes a reply; a failed forward is kept."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from services.handoff import ForwardStatus, HandoffService
from services.messaging import Undelivered
from storage.database import Database, upgrade
from storage.models import AuditEvent, Handoff

STAFF_CHAT = -100500
NOW = datetime(2025, 1, 25, 8, 0, tzinfo=UTC)


async def _open(service: HandoffService, question: str = "سؤال") -> int:
    return await service.open(platform="telegram", chat_id=801, user_id=801, citizen_id=None, question=question)


async def test_a_reply_to_any_part_of_a_forwarded_question_finds_it(db: Database) -> None:
    service = HandoffService(db, lambda: NOW)
    first, second = await _open(service), await _open(service)
    await service.forwarded(first, STAFF_CHAT, [11, 12, 13])
    await service.forwarded(second, STAFF_CHAT, [14])
    for message_id, expected in ((11, first), (13, first), (14, second)):
        reply = await service.answer(staff_chat_id=STAFF_CHAT, reply_to_message_id=message_id,
                                     staff_user_id=42, text="پاسخ")
        assert reply is not None and reply.handoff_id == expected and reply.chat_id == 801
    assert await service.answer(staff_chat_id=STAFF_CHAT, reply_to_message_id=15, staff_user_id=42, text="x") is None
    assert await service.answer(staff_chat_id=-1, reply_to_message_id=11, staff_user_id=42, text="x") is None
    async with db.session() as session:
        handoff = await session.get(Handoff, first)
    assert handoff is not None and (handoff.forward_status, handoff.staff_message_id) == ("forwarded", 11)


async def test_a_failed_forward_is_kept_with_its_reason_and_arrived_parts_still_route(db: Database) -> None:
    service = HandoffService(db, lambda: NOW)
    lost, partly = await _open(service, "گم نشود"), await _open(service)
    await service.forward_failed(lost, STAFF_CHAT, Undelivered.GONE)
    await service.forward_failed(partly, STAFF_CHAT, Undelivered.TEMPORARY, [21])
    async with db.session() as session:
        rows = {h.id: h for h in (await session.exec(select(Handoff))).all()}
        events = (await session.exec(select(AuditEvent).where(AuditEvent.action == "handoff_not_forwarded"))).all()
    assert (rows[lost].forward_status, rows[lost].forward_error, rows[lost].question) == (
        ForwardStatus.FAILED.value, "gone", "گم نشود")
    assert rows[lost].staff_message_id is None
    assert rows[partly].forward_error == "temporary" and len(events) == 2
    reply = await service.answer(staff_chat_id=STAFF_CHAT, reply_to_message_id=21, staff_user_id=42, text="پاسخ")
    assert reply is not None and reply.handoff_id == partly


def test_the_migration_keeps_replies_to_questions_forwarded_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    upgrade(f"sqlite:///{path}", "0005")
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO handoffs (platform, chat_id, question, staff_chat_id, staff_message_id, created_at) "
            "VALUES ('telegram', ?, 'q', ?, ?, '2025-01-01 00:00:00.000000')",
            [(801, STAFF_CHAT, 7), (802, None, None)])
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        statuses = connection.execute("SELECT chat_id, forward_status FROM handoffs ORDER BY chat_id").fetchall()
        parts = connection.execute("SELECT staff_chat_id, message_id, handoff_id FROM handoff_messages").fetchall()
    assert statuses == [(801, "forwarded"), (802, "pending")]
    assert parts == [(STAFF_CHAT, 7, 1)]
