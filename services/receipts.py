"""Proof of service: one record per notice and chat, with the service date and appeal deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

from nlp.digits import to_ascii_digits
from services.calendar import jalali_date
from services.clock import Clock
from services.law import LawPolicy, service_info
from storage import notices
from storage.database import Database
from storage.models import DeliveryStatus

RECEIPT_FIELDS = (
    "ruling_id", "case_number", "national_id_masked", "platform", "chat_id", "delivered_at", "viewed_at",
    "service_at", "service_kind", "appeal_deadline", "appeal_deadline_jalali", "auth_proof",
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
            "auth_proof": self.auth_proof,
        }


async def export_receipts(db: Database, policy: LawPolicy, clock: Clock) -> AsyncIterator[ReceiptRecord]:
    now = clock()
    async with db.session() as session:
        async for row in notices.iter_receipt_rows(session):
            info = service_info(policy, commission=row.ruling.commission,
                                first_delivered_at=row.notice.first_delivered_at,
                                viewed_at=row.notice.viewed_at, now=now)
            delivery = row.delivery
            delivered_at = delivery.sent_at if delivery is not None and \
                delivery.status == DeliveryStatus.SENT.value else None
            yield ReceiptRecord(
                ruling_id=row.ruling.ruling_id, case_number=row.case.case_number,
                national_id_masked=row.citizen.nid_masked,
                platform=delivery.platform if delivery else None, chat_id=delivery.chat_id if delivery else None,
                delivered_at=delivered_at, viewed_at=row.notice.viewed_at, service_at=info.service_at,
                service_kind=info.kind.value, appeal_deadline=info.appeal_deadline,
                appeal_deadline_jalali=to_ascii_digits(jalali_date(info.appeal_deadline)) if info.appeal_deadline else None,
                auth_proof=row.binding.auth_proof if row.binding is not None else None,
            )
