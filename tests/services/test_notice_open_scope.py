"""NoticeService.open, the use case itself: a receipt only from the bound user in their private chat.

Also the authentication side: only a person's own private chat is ever bound.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from services.auth import AuthOutcome, AuthPolicy, AuthService
from services.law.holidays import HolidayCalendar
from services.law.policy import LawPolicy, ServiceRule
from services.messaging import ChatKind
from services.notices import NoticeService, OpenedNotice, OpenRefusal
from services.privacy import Hasher
from storage import citizens
from storage.database import Database
from storage.models import ChatBinding, Notice, Receipt
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Clock

NID, MOBILE = "0012345679", "09121234567"
OWNER, STRANGER, GROUP = 701, 702, -100_700


async def _seed(db: Database, secret: bytes, *, bind_chat: int, bind_user: int | None) -> int:
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret), national_id=NID, mobile=MOBILE)
        ruling = await create_ruling(session, await create_case(session, citizen))
        assert citizen.id is not None
        await citizens.bind_chat(session, citizen.id, "telegram", bind_chat, bind_user, Clock()())
        notice = (await session.exec(select(Notice).where(Notice.ruling_pk == ruling.id))).one()
        assert notice.id is not None
        return notice.id


def _service(db: Database) -> NoticeService:
    return NoticeService(db, LawPolicy(rule=ServiceRule.VIEW_OR_DEEMED, deemed_days=10, appeal_days=10,
                                       holidays=HolidayCalendar.load()), Clock())


async def _receipts(db: Database) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(Receipt))).one())


async def test_only_the_bound_user_in_a_private_chat_opens(db: Database, secret: bytes) -> None:
    notice_id = await _seed(db, secret, bind_chat=OWNER, bind_user=OWNER)
    service = _service(db)

    async def tap(chat_id: int, user_id: int | None, kind: ChatKind) -> OpenedNotice | OpenRefusal:
        return await service.open(platform="telegram", chat_id=chat_id, user_id=user_id, chat_kind=kind,
                                  notice_id=notice_id)

    # Whatever the chat id claims, a group, supergroup or channel is never service.
    for kind in (ChatKind.GROUP, ChatKind.SUPERGROUP, ChatKind.CHANNEL):
        assert await tap(OWNER, OWNER, kind) is OpenRefusal.NOT_PRIVATE
        assert await tap(GROUP, STRANGER, kind) is OpenRefusal.NOT_PRIVATE
    # Someone else acting in the bound chat, or no known user: refused.
    assert await tap(OWNER, STRANGER, ChatKind.PRIVATE) is OpenRefusal.NOT_YOURS
    assert await tap(OWNER, None, ChatKind.PRIVATE) is OpenRefusal.NOT_YOURS
    assert await tap(STRANGER, STRANGER, ChatKind.PRIVATE) is OpenRefusal.NOT_BOUND
    assert await _receipts(db) == 0
    opened = await tap(OWNER, OWNER, ChatKind.PRIVATE)
    assert isinstance(opened, OpenedNotice) and opened.first_view
    async with db.session() as session:
        receipt = (await session.exec(select(Receipt))).one()
    assert (receipt.chat_id, receipt.user_id) == (OWNER, OWNER)


async def test_an_imported_binding_without_user_id_opens_only_for_its_private_chats_person(
        db: Database, secret: bytes) -> None:
    notice_id = await _seed(db, secret, bind_chat=OWNER, bind_user=None)
    service = _service(db)
    refused = await service.open(platform="telegram", chat_id=OWNER, user_id=STRANGER, chat_kind=ChatKind.PRIVATE,
                                 notice_id=notice_id)
    assert refused is OpenRefusal.NOT_YOURS and await _receipts(db) == 0
    opened = await service.open(platform="telegram", chat_id=OWNER, user_id=OWNER, chat_kind=ChatKind.PRIVATE,
                                notice_id=notice_id)
    assert isinstance(opened, OpenedNotice) and await _receipts(db) == 1


async def test_a_legacy_group_binding_opens_nothing(db: Database, secret: bytes) -> None:
    notice_id = await _seed(db, secret, bind_chat=GROUP, bind_user=OWNER)
    service = _service(db)
    for user_id in (OWNER, STRANGER):
        refused = await service.open(platform="telegram", chat_id=GROUP, user_id=user_id, chat_kind=ChatKind.GROUP,
                                     notice_id=notice_id)
        assert refused is OpenRefusal.NOT_PRIVATE
    assert await _receipts(db) == 0


async def test_only_a_private_chat_is_ever_bound(db: Database, secret: bytes) -> None:
    async with db.session() as session:
        await create_citizen(session, Hasher(secret), national_id=NID, mobile=MOBILE)
    hasher = Hasher(secret)
    auth = AuthService(db, hasher, AuthPolicy(window=timedelta(minutes=60)), Clock())
    result = await auth.verify_contact(platform="telegram", chat_id=GROUP, sender_user_id=OWNER,
                                       nid_hash=hasher.national_id(NID), phone=MOBILE, contact_user_id=OWNER)
    assert result.outcome is AuthOutcome.NOT_PRIVATE
    async with db.session() as session:
        assert (await session.exec(select(func.count()).select_from(ChatBinding))).one() == 0
    bound = await auth.verify_contact(platform="telegram", chat_id=OWNER, sender_user_id=OWNER,
                                      nid_hash=hasher.national_id(NID), phone=MOBILE, contact_user_id=OWNER)
    assert bound.outcome is AuthOutcome.BOUND
