"""Authentication: a national ID, then the citizen's own contact whose phone matches the file.

The outcome never tells whether a national ID exists: an unknown ID and a wrong phone fail alike.
Failures are limited per chat within a window. They are counted per ID too, but never lock the ID:
the proof (the citizen's own contact, with the phone on file) cannot be forged by guessing, so a
lock on the ID would only let a stranger lock its owner out. Failures on one ID from several chats
are reported to staff instead, as an audit event (masked ID only). A success binds the chat and
queues every notice due to the citizen.

Proof that the contact is the sender's own (`AuthProof`, recorded on the binding, in the audit log
and in the receipts export):
- contact_user_id: the contact's user_id equals the sender's; the messenger vouches that the phone
  belongs to the sender's account (Telegram, and Bale when it sends user_id).
- contact_reply (Bale only): Bale documents Contact.user_id as optional. Without it, a contact is
  accepted only in the private chat, not forwarded, as the answer to the request-contact keyboard
  (the conversation asks here only while it awaits the contact). This is WEAKER: it proves knowledge
  of the national ID and the mobile on file, not possession of the phone, since a contact card typed
  into the address book looks the same. docs/bale.md says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from nlp.identifiers import NationalIdProblem, national_id_problem, normalize_mobile
from services.clock import Clock
from services.privacy import Hasher, masked_national_id
from storage import audit, citizens, messages
from storage.database import Database


@dataclass(frozen=True)
class AuthPolicy:
    max_failures_per_chat: int = 5
    # Failures on one ID from this many different chats within the window are reported (once).
    alert_chats_per_id: int = 2
    window: timedelta = timedelta(minutes=60)


BALE = "bale"
# The audit event for staff: failures on one national ID came from several chats.
ID_TARGETED = "auth_id_failures_from_chats"


class AuthProof(StrEnum):
    CONTACT_USER_ID = "contact_user_id"
    CONTACT_REPLY = "contact_reply"


def contact_proof(*, platform: str, sender_user_id: int, contact_user_id: int | None,
                  forwarded: bool, private: bool) -> AuthProof | None:
    """The proof a shared contact gives that it is the sender's own, or None (not accepted)."""
    if contact_user_id is not None:
        return AuthProof.CONTACT_USER_ID if contact_user_id == sender_user_id else None
    if platform == BALE and private and not forwarded:
        return AuthProof.CONTACT_REPLY
    return None


class AuthOutcome(StrEnum):
    BOUND = "bound"
    NOT_OWN_CONTACT = "not_own_contact"
    INVALID_PHONE = "invalid_phone"
    MISMATCH = "mismatch"  # unknown ID or another phone: deliberately the same answer
    LOCKED = "locked"
    NOT_PRIVATE = "not_private"  # not the sender's own private chat: never bound


@dataclass(frozen=True)
class IdCheck:
    """The result of the first step: a problem with the ID, a lockout, or the hash to carry on with."""

    problem: NationalIdProblem | None = None
    locked: bool = False
    nid_hash: str | None = None
    nid_masked: str | None = None


@dataclass(frozen=True)
class AuthResult:
    outcome: AuthOutcome
    citizen_id: int | None = None
    full_name: str = ""
    queued_notices: int = 0


class AuthService:
    def __init__(self, db: Database, hasher: Hasher, policy: AuthPolicy, clock: Clock) -> None:
        self._db = db
        self._hasher = hasher
        self._policy = policy
        self._clock = clock

    async def check_national_id(self, platform: str, chat_id: int, raw: str) -> IdCheck:
        problem = national_id_problem(raw)
        if problem is not None:
            return IdCheck(problem=problem)
        if await self._locked(platform, chat_id):
            return IdCheck(locked=True)
        return IdCheck(nid_hash=self._hasher.national_id(raw), nid_masked=masked_national_id(raw))

    async def verify_contact(self, *, platform: str, chat_id: int, sender_user_id: int, nid_hash: str,
                             phone: str, contact_user_id: int | None, forwarded: bool = False,
                             private: bool = True, nid_masked: str = "") -> AuthResult:
        """Called only while the chat awaits the contact the bot asked for (the keyboard's answer).

        `nid_masked` (from the first step) names the ID in a report to staff; never the ID itself.
        """
        now = self._clock()
        if chat_id != sender_user_id:
            # Only a person's own private chat is ever bound (on the Bot API its id is theirs): never a
            # group, where every member would read the citizen's notices.
            return AuthResult(AuthOutcome.NOT_PRIVATE)
        if await self._locked(platform, chat_id):
            return AuthResult(AuthOutcome.LOCKED)
        proof = contact_proof(platform=platform, sender_user_id=sender_user_id, contact_user_id=contact_user_id,
                              forwarded=forwarded, private=private)
        if proof is None:
            await self._fail(platform, chat_id, nid_hash, nid_masked, "not_own_contact", now)
            return AuthResult(AuthOutcome.NOT_OWN_CONTACT)
        if normalize_mobile(phone) is None:
            await self._fail(platform, chat_id, nid_hash, nid_masked, "invalid_phone", now)
            return AuthResult(AuthOutcome.INVALID_PHONE)
        mobile_hash = self._hasher.mobile(phone)
        async with self._db.session() as session:
            citizen = await citizens.find_citizen_by_nid_hash(session, nid_hash)
            if citizen is None or citizen.mobile_hash != mobile_hash:
                reason = "unknown_id" if citizen is None else "phone_mismatch"
                await self._fail(platform, chat_id, nid_hash, nid_masked or (citizen.nid_masked if citizen else ""),
                                 reason, now)
                return AuthResult(AuthOutcome.MISMATCH)
            assert citizen.id is not None
            binding = await citizens.bind_chat(session, citizen.id, platform, chat_id, sender_user_id, now,
                                               auth_proof=proof.value)
            audit.record_auth_attempt(session, platform=platform, chat_id=chat_id, nid_hash=nid_hash,
                                      succeeded=True, reason="bound", at=now)
            audit.record_event(session, actor=f"{platform}:{chat_id}", action="chat_bound",
                               subject=citizen.nid_masked, detail={"auth_proof": proof.value}, at=now)
            assert binding.id is not None
            queued = await messages.fan_out_binding(session, binding.id, now)
            return AuthResult(AuthOutcome.BOUND, citizen.id, citizen.full_name, queued)

    async def logout(self, platform: str, chat_id: int) -> bool:
        now = self._clock()
        async with self._db.session() as session:
            binding = await citizens.unbind_chat(session, platform, chat_id, now)
            if binding is None:
                return False
            # In the same transaction: nothing still queued for this chat goes out once it is unbound.
            cancelled = await messages.cancel_for_chat(session, platform, chat_id, "chat logged out")
            audit.record_event(session, actor=f"{platform}:{chat_id}", action="chat_unbound",
                               subject=str(binding.citizen_id), detail={"cancelled": cancelled} if cancelled else None,
                               at=now)
            return True

    async def _locked(self, platform: str, chat_id: int) -> bool:
        """Only this chat's own failures lock it; other chats' failures on an ID never do."""
        since = self._clock() - self._policy.window
        async with self._db.session() as session:
            return await audit.count_failures_for_chat(session, platform, chat_id, since) >= \
                self._policy.max_failures_per_chat

    async def _fail(self, platform: str, chat_id: int, nid_hash: str, nid_masked: str, reason: str,
                    now: datetime) -> None:
        async with self._db.session() as session:
            audit.record_auth_attempt(session, platform=platform, chat_id=chat_id, nid_hash=nid_hash,
                                      succeeded=False, reason=reason, at=now)
            await session.flush()
            await self._report_if_targeted(session, nid_hash, nid_masked, now)

    async def _report_if_targeted(self, session: AsyncSession, nid_hash: str, nid_masked: str, now: datetime) -> None:
        """Failures on this ID from several chats: one audit event for staff per ID and window."""
        since = now - self._policy.window
        chats, failures = await audit.failures_on_nid(session, nid_hash, since)
        if chats < self._policy.alert_chats_per_id:
            return
        # A prefix of the keyed hash tells IDs with the same mask apart, and reveals nothing.
        ref = nid_hash[:16]
        if await audit.event_since(session, action=ID_TARGETED, subject=nid_masked, ref=ref, since=since):
            return
        audit.record_event(session, actor="auth", action=ID_TARGETED, subject=nid_masked,
                           detail={"ref": ref, "chats": chats, "failures": failures}, at=now)
