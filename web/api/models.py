"""The integration API's request and response bodies, with the OpenAPI examples shown in its docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Json = dict[str, Any]

MAX_ITEMS = 1000
BIGINT = 2**63 - 1

CITIZEN_EXAMPLE: Json = {"national_id": "0012345679", "mobile": "09121234567", "full_name": "مریم رضایی", "district": 5}
CASE_EXAMPLE: Json = {"case_number": "1403051234", "national_id": "0012345679", "status": "hearing_scheduled",
                "district": 5, "address": "خیابان آزادی، پلاک ۱۲", "violation": "اضافه‌بنا در طبقهٔ سوم",
                "hearing_at": "2025-02-10T09:30:00+03:30"}
RULING_EXAMPLE: Json = {"ruling_id": "R-1403-0001", "case_number": "1403051234", "national_id": "0012345679",
                  "commission": "first", "kind": "fine", "issued_at": "2025-01-20",
                  "fine_amount_rials": 1250000000, "summary": "جریمهٔ اضافه‌بنا", "text": "متن کامل رأی ..."}


def _items(example: dict[str, Any], what: str) -> Any:
    return Field(max_length=MAX_ITEMS, description=f"Up to {MAX_ITEMS:,} {what}, with the fields and checks of the "
                 "import files (DESIGN.md, \"Import files\"); each is answered on its own.",
                 json_schema_extra={"example": [example]})


class CitizensIn(BaseModel):
    items: list[dict[str, Any]] = _items(CITIZEN_EXAMPLE, "citizens (national_id, mobile, full_name, district)")
    model_config = ConfigDict(json_schema_extra={"example": {"items": [CITIZEN_EXAMPLE]}})


class CasesIn(BaseModel):
    items: list[dict[str, Any]] = _items(CASE_EXAMPLE, "cases")
    model_config = ConfigDict(json_schema_extra={"example": {"items": [CASE_EXAMPLE]}})


class RulingsIn(BaseModel):
    items: list[dict[str, Any]] = _items(RULING_EXAMPLE, "rulings")
    model_config = ConfigDict(json_schema_extra={"example": {"items": [RULING_EXAMPLE]}})


class ItemError(BaseModel):
    field: str
    reason: str
    reason_fa: str


class NoticeBrief(BaseModel):
    platform: str
    status: str = Field(description="pending | delivered | viewed | failed | blocked | test")


class ItemResult(BaseModel):
    index: int
    status: str = Field(description="inserted | updated | unchanged | rejected")
    id: str | None = Field(description="ruling_id, case_number, or a citizen's masked national ID")
    errors: list[ItemError] = []
    notices: list[NoticeBrief] | None = Field(default=None, description="rulings only: one per bound chat")


class WriteOut(BaseModel):
    results: list[ItemResult]
    model_config = ConfigDict(json_schema_extra={"example": {"results": [
        {"index": 0, "status": "inserted", "id": "R-1403-0001", "errors": [],
         "notices": [{"platform": "telegram", "status": "pending"}]},
        {"index": 1, "status": "rejected", "id": "R-1403-0002", "errors": [
            {"field": "national_id", "reason": "not a valid national ID",
             "reason_fa": "کد ملی (national_id) نامعتبر است: رقم کنترل درست نیست (001****678)"}], "notices": []}]}})


class JobCreated(BaseModel):
    id: int
    model_config = ConfigDict(json_schema_extra={"example": {"id": 7}})


class JobRowError(BaseModel):
    line: int
    field: str
    reason: str
    reason_fa: str


class JobOut(BaseModel):
    id: int
    kind: str
    status: str = Field(description="queued | running | finished | failed")
    inserted: int
    updated: int
    unchanged: int
    bad: int
    errors: list[JobRowError] = Field(description="the first 100 bad rows")
    failure: str | None
    created_at: str
    finished_at: str | None
    model_config = ConfigDict(json_schema_extra={"example": {
        "id": 7, "kind": "rulings", "status": "finished", "inserted": 998, "updated": 0, "unchanged": 0, "bad": 2,
        "errors": [{"line": 14, "field": "issued_at", "reason": "issued after today", "reason_fa": "..."}],
        "failure": None, "created_at": "2025-01-20T08:00:00+00:00", "finished_at": "2025-01-20T08:00:04+00:00"}})


class NoticeOut(BaseModel):
    platform: str
    delivered_at: str | None
    viewed_at: str | None
    service_kind: str = Field(description="viewed | deemed | delivery | pending")
    service_at: str | None
    appeal_deadline: str | None
    appeal_deadline_jalali: str | None
    status: str = Field(description="pending | delivered | viewed | failed | blocked | test")


class RulingOut(BaseModel):
    ruling_id: str
    case_number: str
    national_id_masked: str
    commission: str
    kind: str
    issued_at: str
    fine_amount_rials: int | None
    summary: str
    test: bool
    notices: list[NoticeOut]
    model_config = ConfigDict(json_schema_extra={"example": {
        "ruling_id": "R-1403-0001", "case_number": "1403051234", "national_id_masked": "001****679",
        "commission": "first", "kind": "fine", "issued_at": "2025-01-20", "fine_amount_rials": 1250000000,
        "summary": "جریمهٔ اضافه‌بنا", "test": False, "notices": [{
            "platform": "telegram", "delivered_at": "2025-01-21T06:00:00+00:00",
            "viewed_at": "2025-01-21T07:12:00+00:00", "service_kind": "viewed",
            "service_at": "2025-01-21T07:12:00+00:00", "appeal_deadline": "2025-02-02",
            "appeal_deadline_jalali": "1403/11/14", "status": "viewed"}]}})


class EventOut(BaseModel):
    id: int
    type: str = Field(description="notice.delivered | notice.viewed | notice.deemed_served | notice.failed | citizen.bound")
    occurred_at: str
    ruling_id: str | None
    case_number: str | None
    data: dict[str, Any]


EVENT_EXAMPLE: Json = {"id": 42, "type": "notice.viewed", "occurred_at": "2025-01-21T07:12:00+00:00",
                 "ruling_id": "R-1403-0001", "case_number": "1403051234",
                 "data": {"platform": "telegram", "viewed_at": "2025-01-21T07:12:00+00:00"}}


class EventsOut(BaseModel):
    events: list[EventOut]
    next: int = Field(description="the cursor to pass as `after` for the next page")
    model_config = ConfigDict(json_schema_extra={"example": {"events": [EVENT_EXAMPLE], "next": 42}})


class BroadcastIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    segment: str = Field(default="all", max_length=64, description="all | district:N | status:S")
    at: str | None = Field(default=None, max_length=64, description="ISO time to send at (default now)")
    model_config = ConfigDict(json_schema_extra={"example": {"text": "جلسهٔ کمیسیون روز شنبه برگزار می‌شود",
                                                             "segment": "district:5", "at": None}})


class BroadcastOut(BaseModel):
    id: int
    state: str
    recipients: int
    sent: int
    failed: int
    blocked: int
    pending: int
    model_config = ConfigDict(json_schema_extra={"example": {"id": 3, "state": "queued", "recipients": 120,
                                                             "sent": 40, "failed": 0, "blocked": 1, "pending": 79}})


class CancelOut(BaseModel):
    id: int
    withdrawn: int
    model_config = ConfigDict(json_schema_extra={"example": {"id": 3, "withdrawn": 79}})


class WebhookIn(BaseModel):
    url: str = Field(max_length=2000)
    events: list[str] = Field(min_length=1, max_length=10)
    model_config = ConfigDict(json_schema_extra={"example": {
        "url": "https://cases.example.ir/eblagh/callbacks", "events": ["notice.delivered", "notice.viewed"]}})


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: str
    disabled_at: str | None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_...: shown once; verifies the webhook-signature header")
    model_config = ConfigDict(json_schema_extra={"example": {
        "id": 1, "url": "https://cases.example.ir/eblagh/callbacks", "events": ["notice.delivered", "notice.viewed"],
        "active": True, "created_at": "2025-01-20T08:00:00+00:00", "disabled_at": None,
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}})


class WebhooksOut(BaseModel):
    webhooks: list[WebhookOut]
    model_config = ConfigDict(json_schema_extra={"example": {"webhooks": [{
        "id": 1, "url": "https://cases.example.ir/eblagh/callbacks", "events": ["notice.delivered"],
        "active": True, "created_at": "2025-01-20T08:00:00+00:00", "disabled_at": None}]}})


class AttemptOut(BaseModel):
    at: str
    status_code: int | None
    outcome: str = Field(description="ok | retry | permanent")
    error: str | None
    duration_ms: int


class CallbackOut(BaseModel):
    id: int
    event: EventOut
    status: str = Field(description="queued | sending | sent | failed")
    attempts: int
    last_status_code: int | None
    next_attempt_at: str | None
    sent_at: str | None
    attempt_log: list[AttemptOut]


class CallbacksOut(BaseModel):
    deliveries: list[CallbackOut]
    model_config = ConfigDict(json_schema_extra={"example": {"deliveries": [{
        "id": 9, "event": EVENT_EXAMPLE, "status": "sent", "attempts": 3, "last_status_code": 200,
        "next_attempt_at": None, "sent_at": "2025-01-21T07:12:40+00:00", "attempt_log": [
            {"at": "2025-01-21T07:12:01+00:00", "status_code": 503, "outcome": "retry", "error": "HTTP 503",
             "duration_ms": 12},
            {"at": "2025-01-21T07:12:07+00:00", "status_code": None, "outcome": "retry", "error": "timeout",
             "duration_ms": 5001},
            {"at": "2025-01-21T07:12:40+00:00", "status_code": 200, "outcome": "ok", "error": None,
             "duration_ms": 9}]}]}})


class Accepted(BaseModel):
    status: str = "queued"
    model_config = ConfigDict(json_schema_extra={"example": {"status": "queued"}})


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    message_fa: str


class ErrorOut(BaseModel):
    error: ErrorDetail
    model_config = ConfigDict(json_schema_extra={"example": {"error": {
        "status": 401, "code": "unauthorized", "message": "a valid API key is needed: Authorization: Bearer KEY",
        "message_fa": "کلید API معتبر لازم است"}}})
