"""The dashboard's notices: search by case number, ruling id, national ID or mobile, and one notice's
proof of service.

National IDs and mobiles are found through their keyed hashes (services/privacy.py): the query is
hashed, never stored, and the result page shows only its masked form. A search by either is an audit
event (who, when, which kind, the masked value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from nlp.digits import to_ascii_digits
from nlp.identifiers import clean_case_number, is_valid_national_id, normalize_mobile
from services.clock import Clock
from services.law.policy import LawPolicy, ServiceInfo, service_info
from services.privacy import Hasher, masked_mobile, masked_national_id
from services.receipts import ReceiptRecord, export_receipts
from storage import audit, notice_search
from storage.database import Database
from storage.notice_search import NoticeDetail, NoticeLine, NoticeState

PAGE_SIZE = 25

__all__ = ["PAGE_SIZE", "NoticeDetail", "NoticeLine", "NoticeSearchService", "NoticeState", "ProofPage",
           "QueryKind", "SearchPage"]


class QueryKind(StrEnum):
    NONE = "none"
    TEXT = "text"  # a case number or ruling id (or its beginning)
    NATIONAL_ID = "national_id"
    MOBILE = "mobile"


@dataclass(frozen=True)
class SearchPage:
    lines: list[NoticeLine]
    total: int
    page: int
    pages: int
    kind: QueryKind
    shown_query: str  # what the page may echo: the masked form of a national ID or mobile
    citizen_ids: list[int] | None  # for the next pages of a personal search (links never carry the ID)


@dataclass(frozen=True)
class ProofPage:
    detail: NoticeDetail
    service: ServiceInfo
    records: list[ReceiptRecord]


def classify(raw: str) -> QueryKind:
    text = to_ascii_digits(raw).strip()
    if not text:
        return QueryKind.NONE
    if is_valid_national_id(text):
        return QueryKind.NATIONAL_ID
    if sum(ch.isdigit() for ch in text) >= 10 and normalize_mobile(text) is not None:
        return QueryKind.MOBILE
    return QueryKind.TEXT


class NoticeSearchService:
    def __init__(self, db: Database, hasher: Hasher, law: LawPolicy, clock: Clock) -> None:
        self._db = db
        self._hasher = hasher
        self._law = law
        self._clock = clock

    async def districts(self) -> list[int]:
        async with self._db.session() as session:
            return await notice_search.districts(session)

    async def search(self, query: str = "", *, state: NoticeState | None = None, district: int | None = None,
                     page: int = 1, citizen_ids: list[int] | None = None, actor: str) -> SearchPage:
        kind = classify(query) if citizen_ids is None else QueryKind.NATIONAL_ID
        text, shown = clean_case_number(query)[:64], clean_case_number(query)[:64]
        async with self._db.session() as session:
            if kind is QueryKind.NATIONAL_ID and citizen_ids is None:
                citizen_ids = await notice_search.citizens_by_hash(session, nid_hash=self._hasher.national_id(query))
                shown = masked_national_id(query)
            elif kind is QueryKind.MOBILE:
                citizen_ids = await notice_search.citizens_by_hash(session, mobile_hash=self._hasher.mobile(query))
                shown, text = masked_mobile(query), ""
            elif citizen_ids is not None:
                shown, text = "", ""
            if kind in (QueryKind.NATIONAL_ID, QueryKind.MOBILE) and query:
                audit.record_event(session, actor=actor, action=f"notice_search.{kind.value}",
                                   detail={"masked": shown, "found": len(citizen_ids or [])}, at=self._clock())
            page = max(1, page)
            lines, total = await notice_search.search(
                session, citizen_ids=citizen_ids, text=text if kind is not QueryKind.MOBILE else None,
                state=state, district=district, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        return SearchPage(lines, total, page, max(1, math.ceil(total / PAGE_SIZE)), kind, shown, citizen_ids)

    async def proof(self, notice_id: int) -> ProofPage | None:
        async with self._db.session() as session:
            detail = await notice_search.detail(session, notice_id)
        if detail is None:
            return None
        notice = detail.line.notice
        info = service_info(self._law, commission=detail.line.ruling.commission,
                            first_delivered_at=notice.first_delivered_at, viewed_at=notice.viewed_at,
                            now=self._clock())
        records = [r async for r in export_receipts(self._db, self._law, self._clock, notice_id=notice_id)]
        return ProofPage(detail, info, records)
