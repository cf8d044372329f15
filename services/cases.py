"""A citizen's own cases and rulings, as the question answers read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.clock import Clock
from services.law.policy import LawPolicy, ServiceInfo, service_info
from storage import notices
from storage.database import Database


@dataclass(frozen=True)
class RulingView:
    ruling_id: str
    notice_id: int | None
    commission: str
    kind: str
    issued_on: date
    fine_amount_rials: int | None
    summary: str
    viewed: bool
    service: ServiceInfo


@dataclass(frozen=True)
class CaseView:
    case_number: str
    status: str
    district: int | None
    address: str
    violation: str
    hearing_at: datetime | None
    rulings: tuple[RulingView, ...]

    @property
    def latest_ruling(self) -> RulingView | None:
        return self.rulings[-1] if self.rulings else None


@dataclass(frozen=True)
class CitizenOverview:
    citizen_id: int
    full_name: str
    nid_masked: str
    district: int | None
    cases: tuple[CaseView, ...]


class CaseService:
    def __init__(self, db: Database, policy: LawPolicy, clock: Clock) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock

    async def overview(self, citizen_id: int) -> CitizenOverview | None:
        """Everything about one citizen's cases; only ever called with the chat's own citizen."""
        now = self._clock()
        async with self._db.reading() as session:
            found = await notices.citizen_with_cases(session, citizen_id)  # one query, however many cases
        if found is None:
            return None
        cases = tuple(
            CaseView(case.case_number, case.status, case.district, case.address, case.violation, case.hearing_at,
                     tuple(RulingView(ruling.ruling_id, ruling.notice_id, ruling.commission, ruling.kind,
                                      ruling.issued_on, ruling.fine_amount_rials, ruling.summary,
                                      ruling.viewed_at is not None,
                                      service_info(self._policy, commission=ruling.commission,
                                                   first_delivered_at=ruling.first_delivered_at,
                                                   viewed_at=ruling.viewed_at, now=now))
                           for ruling in case.rulings))
            for case in found.cases)
        return CitizenOverview(citizen_id, found.full_name, found.nid_masked, found.district, cases)
