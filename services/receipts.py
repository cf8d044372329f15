"""Proof of service: one record per notice and chat, with the service date and appeal deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from nlp.digits import to_ascii_digits
from services.clock import Clock
from services.law.calendar import jalali_date
from services.law.policy import LawPolicy, service_info
from storage import notices, proof
from storage.database import Database
from storage.models import DeliveryStatus
from storage.proof import ProofRef

RECEIPT_FIELDS = (
    "ruling_id", "case_number", "national_id_masked", "platform", "chat_id", "delivered_at", "viewed_at",
    "service_at", "service_kind", "appeal_deadline", "appeal_deadline_jalali", "appeal_deadline_estimated",
    "proof_seq", "proof_hash",  # the latest proof-chain record for this notice and chat (services/proof.py)
    "auth_proof",  # how the chat's citizen proved the phone (contact_user_id | contact_reply)
)


@dataclass(frozen=True)
class ReceiptRecord:
    ruling_id: str
    case_number: str
    national_id_masked: str
    platform: str | None
    chat_id: int | None
    delivered_at: datetime | None
    viewed_at: datetime | None
    service_at: datetime | None
    service_kind: str
    appeal_deadline: date | None
    appeal_deadline_jalali: str | None
    # True when the deadline may still move: it depends on a holiday whose date is only estimated
    # (or lies beyond the years the holiday calendar covers). False when certain or when there is none.
    appeal_deadline_estimated: bool
    proof_seq: int | None = None
    proof_hash: str | None = None
    # How the chat's citizen proved the phone (contact_user_id | contact_reply); None if unknown.
    auth_proof: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: ISO times in UTC, ISO dates, ASCII digits (Jalali keeps Persian digits)."""
        def iso(value: datetime | date | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "ruling_id": self.ruling_id, "case_number": self.case_number,
            "national_id_masked": self.national_id_masked, "platform": self.platform, "chat_id": self.chat_id,
            "delivered_at": iso(self.delivered_at), "viewed_at": iso(self.viewed_at),
            "service_at": iso(self.service_at), "service_kind": self.service_kind,
            "appeal_deadline": iso(self.appeal_deadline), "appeal_deadline_jalali": self.appeal_deadline_jalali,
            "appeal_deadline_estimated": self.appeal_deadline_estimated,
            "proof_seq": self.proof_seq, "proof_hash": self.proof_hash,
            "auth_proof": self.auth_proof,
        }


async def export_receipts(db: Database, policy: LawPolicy, clock: Clock,
                          notice_id: int | None = None) -> AsyncIterator[ReceiptRecord]:
    """Every notice's records, or one notice's (the dashboard's proof page)."""
    now = clock()
    async with db.session() as session:
        proofs = ProofIndex(session)
        async for row in notices.iter_receipt_rows(session, notice_id=notice_id):
            info = service_info(policy, commission=row.ruling.commission,
                                first_delivered_at=row.notice.first_delivered_at,
                                viewed_at=row.notice.viewed_at, now=now)
            delivery = row.delivery
            proof_ref = await proofs.latest(row.notice.id or 0, delivery.platform if delivery else None,
                                            delivery.chat_id if delivery else None)
            delivered_at = delivery.sent_at if delivery is not None and \
                delivery.status == DeliveryStatus.SENT.value else None
            yield ReceiptRecord(
                ruling_id=row.ruling.ruling_id, case_number=row.case.case_number,
                national_id_masked=row.citizen.nid_masked,
                platform=delivery.platform if delivery else None, chat_id=delivery.chat_id if delivery else None,
                delivered_at=delivered_at, viewed_at=row.notice.viewed_at, service_at=info.service_at,
                service_kind=info.kind.value, appeal_deadline=info.appeal_deadline,
                appeal_deadline_jalali=to_ascii_digits(jalali_date(info.appeal_deadline)) if info.appeal_deadline else None,
                appeal_deadline_estimated=info.appeal_deadline is not None and not info.deadline_certain,
                proof_seq=proof_ref.seq if proof_ref else None, proof_hash=proof_ref.hash if proof_ref else None,
                auth_proof=row.binding.auth_proof if row.binding is not None else None,
            )


class ProofIndex:
    """The proof records behind export rows, read a span of notice ids at a time (rows come in notice order)."""

    def __init__(self, session: AsyncSession, span: int = 1000) -> None:
        self._session = session
        self._span = span
        self._first, self._end = 0, 0
        self._latest: dict[tuple[int, str | None, int | None], ProofRef] = {}

    async def latest(self, notice_id: int, platform: str | None, chat_id: int | None) -> ProofRef | None:
        """The latest record of this delivery, or of the notice's view or deemed service, whichever came
        last (through the chain its hash vouches for every record before it)."""
        if not self._first <= notice_id < self._end:
            self._first, self._end = notice_id, notice_id + self._span
            self._latest = await proof.latest_in_range(self._session, self._first, self._end)
        found = [ref for ref in (self._latest.get((notice_id, platform, chat_id)) if platform else None,
                                 self._latest.get((notice_id, None, None))) if ref is not None]
        return max(found, key=lambda ref: ref.seq, default=None)
