"""Proof of phone: the contact's user_id where the messenger gives one, else (Bale only) a contact
sent in the private chat, not forwarded, while the bot awaited it; recorded on the binding, in the
audit log and in the receipts export."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.dispatch import dispatch
from handlers import texts
from handlers.events import Chat, ContactShared, TextReceived
from services.auth import AuthProof, contact_proof
from services.privacy import Hasher
from services.receipts import RECEIPT_FIELDS, export_receipts
from storage.database import Database
from storage.models import AuditEvent, ChatBinding
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Clock, RecordingSender, deliver_due, make_app

NID, MOBILE, USER = "0012345679", "09121234567", 700


@pytest.mark.parametrize(("platform", "contact_user_id", "forwarded", "private", "proof"), [
    ("telegram", USER, False, True, AuthProof.CONTACT_USER_ID),
    ("bale", USER, False, True, AuthProof.CONTACT_USER_ID),
    ("telegram", USER, True, True, AuthProof.CONTACT_USER_ID),  # the messenger still vouches for it
    ("telegram", 4242, False, True, None),  # someone else's
    ("bale", 4242, False, True, None),
    ("telegram", None, False, True, None),  # Telegram always names the sender's own contact
    ("bale", None, False, True, AuthProof.CONTACT_REPLY),
    ("bale", None, True, True, None),  # forwarded
    ("bale", None, False, False, None),  # not in the private chat
])
def test_which_contact_proves_what(platform: str, contact_user_id: int | None, forwarded: bool, private: bool,
                                   proof: AuthProof | None) -> None:
    assert contact_proof(platform=platform, sender_user_id=USER, contact_user_id=contact_user_id,
                         forwarded=forwarded, private=private) == proof


async def _seeded(db: Database, secret: bytes) -> None:
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret), national_id=NID, mobile=MOBILE)
        await create_ruling(session, await create_case(session, citizen), ruling_id="R-1")


async def test_a_bale_contact_without_user_id_binds_and_says_how(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock)
    await _seeded(db, secret)
    sender = RecordingSender("bale")
    chat = Chat("bale", USER, USER)
    await dispatch(app, TextReceived(chat, NID), sender)
    # Bale's worst case: no user_id, the phone a number that lost its leading 0.
    await dispatch(app, ContactShared(chat, "9121234567", None), sender)
    assert texts.BOUND.split("{")[0][:12] in sender.to(USER)[-2].html
    await deliver_due(app, sender)
    async with db.session() as session:
        binding = (await session.exec(select(ChatBinding))).one()
        event = (await session.exec(select(AuditEvent).where(AuditEvent.action == "chat_bound"))).one()
    assert binding.auth_proof == "contact_reply"
    assert json.loads(event.detail) == {"auth_proof": "contact_reply"}
    (record,) = [r async for r in export_receipts(db, app.law, clock)]
    assert record.auth_proof == "contact_reply" and record.platform == "bale"
    assert RECEIPT_FIELDS[-1] == "auth_proof" and list(record.as_dict())[-1] == "auth_proof"


@pytest.mark.parametrize(("platform", "forwarded"), [("telegram", False), ("bale", True)])
async def test_a_contact_without_user_id_is_refused_otherwise(db: Database, secret: bytes, platform: str,
                                                              forwarded: bool) -> None:
    app = make_app(db, secret, Clock())
    await _seeded(db, secret)
    sender = RecordingSender(platform)
    chat = Chat(platform, USER, USER)
    await dispatch(app, TextReceived(chat, NID), sender)
    await dispatch(app, ContactShared(chat, MOBILE, None, forwarded=forwarded), sender)
    assert sender.to(USER)[-1].html == texts.CONTACT_NOT_OWN
    async with db.session() as session:
        assert (await session.exec(select(ChatBinding))).first() is None
