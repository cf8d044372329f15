"""Reads of the integration API: a ruling with, for each chat it goes to, where its notice stands.

Status of a notice in a chat: `pending` (queued, or no delivery made yet), `delivered`, `viewed`
(delivered and opened), `failed`, `blocked` (the citizen blocked the bot), `test` (a `--test` key's ruling:
never sent). National IDs appear masked only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nlp.digits import to_ascii_digits
from services.clock import Clock
from services.law.calendar import jalali_date
from services.law.policy import LawPolicy, service_info
from storage import api_store
from storage.database import Database
from storage.models import DeliveryStatus

_STATUS = {DeliveryStatus.QUEUED.value: "pending", DeliveryStatus.SENDING.value: "pending",
           DeliveryStatus.SENT.value: "delivered", DeliveryStatus.FAILED.value: "failed",
           DeliveryStatus.BLOCKED.value: "blocked", "queued": "pending", "test": "test"}


def notice_status(delivery_status: str, *, viewed: bool = False, test: bool = False) -> str:
    if test:
        return "test"
    status = _STATUS.get(delivery_status, "pending")
    return "viewed" if status == "delivered" and viewed else status


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class RulingReader:
    def __init__(self, db: Database, policy: LawPolicy, clock: Clock) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock

    async def notices_of(self, ruling_ids: list[str]) -> dict[str, list[dict[str, str]]]:
        """For write results: ruling_id -> [{platform, status}], one per bound chat or delivery made."""
        async with self._db.session() as session:
            chats = await api_store.notice_chats(session, ruling_ids)
        return {rid: [{"platform": c["platform"], "status": notice_status(c["status"])} for c in entries]
                for rid, entries in chats.items()}

    async def ruling(self, ruling_id: str) -> dict[str, Any] | None:
        async with self._db.session() as session:
            found = await api_store.ruling_with_notice(session, ruling_id)
            if found is None:
                return None
            ruling, case, citizen, notice, test = found
            deliveries = await api_store.deliveries_of(session, notice.id) if notice and notice.id else []
            chats = (await api_store.notice_chats(session, [ruling_id])).get(ruling_id, [])
        info = service_info(self._policy, commission=ruling.commission,
                            first_delivered_at=notice.first_delivered_at if notice else None,
                            viewed_at=notice.viewed_at if notice else None, now=self._clock())
        deadline = info.appeal_deadline
        common = {"service_kind": info.kind.value, "service_at": _iso(info.service_at),
                  "appeal_deadline": _iso(deadline),
                  "appeal_deadline_jalali": to_ascii_digits(jalali_date(deadline)) if deadline else None,
                  "viewed_at": _iso(notice.viewed_at if notice else None)}
        viewed = notice is not None and notice.viewed_at is not None
        notices: list[dict[str, Any]] = []
        for delivery in deliveries:
            sent: datetime | None = delivery.sent_at if delivery.status == DeliveryStatus.SENT.value else None
            notices.append({"platform": delivery.platform, "delivered_at": _iso(sent), **common,
                            "status": notice_status(delivery.status, viewed=viewed, test=test)})
        for chat in chats:  # bound chats no delivery was made to yet
            if not chat["delivery"]:
                notices.append({"platform": chat["platform"], "delivered_at": None, **common,
                                "status": notice_status(chat["status"], test=test)})
        return {"ruling_id": ruling.ruling_id, "case_number": case.case_number,
                "national_id_masked": citizen.nid_masked, "commission": ruling.commission, "kind": ruling.kind,
                "issued_at": ruling.issued_on.isoformat(), "fine_amount_rials": ruling.fine_amount_rials,
                "summary": ruling.summary, "test": test, "notices": notices}
