"""Reading import files and checking their rows: pure functions, no database.

A reader turns lines into (line number, fields) records or a `RowProblem`; a row parser turns the
fields into a typed row or raises `RowError` with the operator's reason. What needs the database
(does the citizen exist, is the case theirs) is checked by the importer, per batch.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from nlp.digits import to_ascii_digits
from nlp.identifiers import (
    clean_case_number,
    clean_national_id,
    mask_mobile,
    mask_national_id,
    national_id_problem,
    normalize_mobile,
)
from services.imports import messages as msg
from services.law.calendar import parse_date, parse_datetime, tehran_date
from services.privacy import Hasher
from storage.vocabulary import DISTRICTS, CaseStatus, Commission, Platform, RulingKind

CASE_STATUSES = tuple(s.value for s in CaseStatus)
COMMISSIONS = tuple(c.value for c in Commission)
RULING_KINDS = tuple(k.value for k in RulingKind)
PLATFORMS = tuple(p.value for p in Platform)

# Column widths in the schema: PostgreSQL refuses longer values, and one refusal would fail a batch.
MAX_CASE_NUMBER = 32
MAX_RULING_ID = 64
MAX_BIGINT = 2**63 - 1

# Free text, in characters. Chat messages and the dashboard show these, and a slipped column or a
# pasted document should be caught here rather than stored; full_name is also the schema's width.
MAX_FULL_NAME = 200
MAX_ADDRESS = 500
MAX_VIOLATION = 2_000
MAX_SUMMARY = 1_000
MAX_RULING_TEXT = 50_000
TEXT_LIMITS = MappingProxyType({"full_name": MAX_FULL_NAME, "address": MAX_ADDRESS, "violation": MAX_VIOLATION,
                                "summary": MAX_SUMMARY, "text": MAX_RULING_TEXT})

CITIZEN_COLUMNS = (("national_id", "mobile"), ("full_name", "district"))
SUBSCRIBER_COLUMNS = (("national_id", "platform", "chat_id"), ("user_id",))

_THOUSANDS_SEPARATORS = str.maketrans("", "", ",٬_ \u066c\u200c")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    reason: str  # Persian, for the operator
    field: str = ""  # the field at fault, when one is
    reason_en: str = ""  # the reason in English (the integration API's `reason`)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", msg.scrub(self.reason))

    def __str__(self) -> str:
        return msg.problem_line(self.line, self.reason)


class RowError(ValueError):
    """A row that cannot be applied; the message is the reason shown to the operator (Persian).

    `field` names the field at fault and `reason` says it in English, for the integration API.
    """

    def __init__(self, message: str, *, field: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason or message


class ImportFileError(ValueError):
    """The file as a whole is unusable (no header, missing columns): nothing is applied."""


Record = tuple[int, dict[str, Any]]


# ---------------------------------------------------------------- readers


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield line


def read_csv(lines: Iterable[str], columns: tuple[Sequence[str], Sequence[str]]) -> Iterator[Record | RowProblem]:
    """Records keyed by the header's column names; `columns` is (required, optional).

    Blank lines are skipped; columns not in `columns` are ignored. Raises ImportFileError when the
    header lacks a required column.
    """
    required, _optional = columns
    reader = csv.reader(_without_bom(lines))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportFileError(msg.HEADER_EMPTY) from None
    absent = [name for name in required if name not in header]
    if absent:
        raise ImportFileError(msg.header_missing(absent))
    last_line = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # the reader drops the rest of the physical line and goes on with the next one
            line, last_line = last_line + 1, reader.line_num
            yield RowProblem(line, _csv_problem(error))
            continue
        line, last_line = last_line + 1, reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield RowProblem(line, msg.wrong_column_count(len(header), len(values)))
            continue
        yield line, dict(zip(header, values, strict=True))


def _csv_problem(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return msg.csv_field_too_large(csv.field_size_limit())
    return msg.bad_csv(str(error))


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object_pairs_hook: a key given twice is refused (json.loads would keep the last silently).

    Keys are also compared as the importer reads them (trimmed, lower case): "Text" and "text" are
    the same field. The common case costs two set-sized passes, no Python loop.
    """
    result = dict(pairs)
    if len(result) == len(pairs) and len({key.strip().lower() for key in result}) == len(pairs):
        return result
    seen: set[str] = set()
    for key, _ in pairs:
        folded = key.strip().lower()
        if folded in seen:
            raise _DuplicateKey(key)
        seen.add(folded)
    raise AssertionError("unreachable: a duplicate was counted")  # pragma: no cover


def read_jsonl(lines: Iterable[str]) -> Iterator[Record | RowProblem]:
    """One JSON object a line; blank lines are skipped."""
    for line, text in enumerate(_without_bom(lines), start=1):
        text = text.strip()
        if not text:
            continue
        try:
            value = json.loads(text, object_pairs_hook=_unique_keys)
        except _DuplicateKey as error:
            yield RowProblem(line, msg.duplicate_key(error.key))
            continue
        except json.JSONDecodeError as error:
            yield RowProblem(line, msg.not_json(error.msg))
            continue
        except RecursionError:
            yield RowProblem(line, msg.JSON_TOO_DEEP)
            continue
        except ValueError as error:  # e.g. an integer of more digits than Python converts
            yield RowProblem(line, msg.not_json(str(error).split(":")[0]))
            continue
        if not isinstance(value, dict):
            yield RowProblem(line, msg.JSON_NOT_OBJECT)
            continue
        yield line, {str(k).strip().lower(): v for k, v in value.items()}


# ---------------------------------------------------------------- field checks


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _required(fields: Mapping[str, Any], name: str) -> Any:
    value = fields.get(name)
    if _blank(value):
        raise RowError(msg.missing(name), field=name, reason="missing or empty")
    return value


def _identifier(fields: Mapping[str, Any], name: str, limit: int) -> str:
    """A case number or ruling ID: text or a JSON number, digits folded to ASCII."""
    value = _required(fields, name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RowError(msg.bad_text(name), field=name, reason="not text")
    text = clean_case_number(str(value))
    _check_text(name, text, limit)
    return text


def _check_text(name: str, text: str, limit: int | None = None) -> None:
    if "\x00" in text:
        raise RowError(msg.nul_character(name), field=name, reason="contains a NUL character")
    if limit is not None and len(text) > limit:
        raise RowError(msg.too_long(name, limit, len(text)), field=name, reason="too long")


def _text(fields: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """Free text, kept as written (a served ruling is quoted verbatim) but for outer blanks.

    Its maximum length is TEXT_LIMITS[name].
    """
    limit = TEXT_LIMITS[name]
    value = _required(fields, name) if required else fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowError(msg.bad_text(name), field=name, reason="not text")
    text = value.strip()
    _check_text(name, text, limit)
    return text


def _national_id(fields: Mapping[str, Any], name: str, hasher: Hasher) -> tuple[str, str]:
    """(keyed hash, masked form) of a valid national ID."""
    value = fields.get(name)
    # a JSON number loses leading zeros; 8-9 digits are padded
    cleaned = clean_national_id("" if value is None else str(value))
    problem = national_id_problem(cleaned)
    if problem is not None:
        raise RowError(msg.bad_national_id(name, problem, cleaned), field=name, reason="not a valid national ID")
    return hasher.national_id(cleaned), mask_national_id(cleaned)


def _integer(value: Any, name: str) -> int:
    """An integer from a JSON number or text in any digits, with or without thousands separators."""
    if isinstance(value, bool):
        raise RowError(msg.bad_integer(name), field=name, reason="not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise RowError(msg.bad_integer(name), field=name, reason="not an integer")
    if isinstance(value, str):
        text = to_ascii_digits(value).translate(_THOUSANDS_SEPARATORS).strip()
        if text.lstrip("+-").isdigit() and text.isascii():
            return int(text)
    raise RowError(msg.bad_integer(name), field=name, reason="not an integer")


def _district(fields: Mapping[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if _blank(value):
        return None
    try:
        number = _integer(value, name)
    except RowError:
        raise RowError(msg.bad_district(name), field=name, reason="not a district (1-22)") from None
    if number not in DISTRICTS:
        raise RowError(msg.bad_district(name), field=name, reason="not a district (1-22)")
    return number


def _amount(fields: Mapping[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if _blank(value):
        return None
    try:
        number = _integer(value, name)
    except RowError:
        raise RowError(msg.bad_amount(name), field=name, reason="not an amount in rials (a whole number >= 0)") from None
    if not 0 <= number <= MAX_BIGINT:
        raise RowError(msg.bad_amount(name), field=name, reason="not an amount in rials (a whole number >= 0)")
    return number


def _choice(fields: Mapping[str, Any], name: str, allowed: Sequence[str]) -> str:
    value = _required(fields, name)
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if text not in allowed:
        raise RowError(msg.bad_choice(name, value, allowed), field=name, reason="not one of the allowed values")
    return text


def _date(fields: Mapping[str, Any], name: str) -> date:
    value = _required(fields, name)
    if not isinstance(value, str):
        raise RowError(msg.bad_date(name, repr(value)), field=name, reason="not a date (ISO 8601 or Jalali 1403/11/01)")
    try:
        return parse_date(value)
    except ValueError as date_error:
        try:  # a full timestamp is accepted too: its date in Tehran
            return tehran_date(parse_datetime(value))
        except ValueError:
            raise RowError(msg.bad_date(name, str(date_error)), field=name, reason="not a date (ISO 8601 or Jalali 1403/11/01)") from None


def _datetime(fields: Mapping[str, Any], name: str) -> datetime | None:
    value = fields.get(name)
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise RowError(msg.bad_date(name, repr(value)), field=name, reason="not a date (ISO 8601 or Jalali 1403/11/01)")
    try:
        return parse_datetime(value)
    except ValueError as error:
        raise RowError(msg.bad_date(name, str(error)), field=name, reason="not a date (ISO 8601 or Jalali 1403/11/01)") from None


def _chat_id(fields: Mapping[str, Any], name: str, *, required: bool) -> int | None:
    value = _required(fields, name) if required else fields.get(name)
    if _blank(value):
        return None
    number = _integer(value, name)
    if number == 0 or abs(number) > MAX_BIGINT:
        raise RowError(msg.bad_integer(name), field=name, reason="not an integer")
    return number


# ---------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class CitizenRow:
    """A citizen; None in full_name or district means "keep what is on file"."""

    line: int
    nid_hash: str
    nid_masked: str
    mobile_hash: str
    mobile_masked: str
    full_name: str | None
    district: int | None

    @property
    def key(self) -> str:
        return self.nid_hash


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case; `changes` holds only the optional columns the row gives (absent = keep)."""

    line: int
    case_number: str
    nid_hash: str
    status: str
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.case_number


@dataclass(frozen=True, slots=True)
class RulingRow:
    line: int
    ruling_id: str
    case_number: str
    nid_hash: str
    commission: str
    kind: str
    issued_on: date
    fine_amount_rials: int | None
    summary: str
    text: str

    @property
    def key(self) -> str:
        return self.ruling_id


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    line: int
    nid_hash: str
    platform: str
    chat_id: int
    user_id: int | None

    @property
    def key(self) -> tuple[str, int]:
        return (self.platform, self.chat_id)


KEY_FIELDS = {CitizenRow: "national_id", CaseRow: "case_number", RulingRow: "ruling_id",
              SubscriberRow: "platform+chat_id"}


def parse_citizen(line: int, fields: Mapping[str, Any], hasher: Hasher) -> CitizenRow:
    nid_hash, nid_masked = _national_id(fields, "national_id", hasher)
    mobile = normalize_mobile(str(_required(fields, "mobile")))
    if mobile is None:
        raise RowError(msg.bad_mobile("mobile"), field="mobile", reason="not an Iranian mobile number")
    full_name = _text(fields, "full_name")
    return CitizenRow(line=line, nid_hash=nid_hash, nid_masked=nid_masked, mobile_hash=hasher.mobile(mobile),
                      mobile_masked=mask_mobile(mobile), full_name=full_name or None,
                      district=_district(fields, "district"))


def parse_case(line: int, fields: Mapping[str, Any], hasher: Hasher) -> CaseRow:
    case_number = _identifier(fields, "case_number", MAX_CASE_NUMBER)
    nid_hash, _ = _national_id(fields, "national_id", hasher)
    status = _choice(fields, "status", CASE_STATUSES)
    changes: dict[str, Any] = {}
    if "district" in fields:
        changes["district"] = _district(fields, "district")
    for name in ("address", "violation"):
        if name in fields:
            changes[name] = _text(fields, name) or ""
    if "hearing_at" in fields:
        changes["hearing_at"] = _datetime(fields, "hearing_at")
    return CaseRow(line=line, case_number=case_number, nid_hash=nid_hash, status=status, changes=changes)


def parse_ruling(line: int, fields: Mapping[str, Any], hasher: Hasher, *, today: date | None = None) -> RulingRow:
    """`today` (Tehran's date): a ruling issued after it is refused (a typo in the year, usually)."""
    ruling_id = _identifier(fields, "ruling_id", MAX_RULING_ID)
    case_number = _identifier(fields, "case_number", MAX_CASE_NUMBER)
    nid_hash, _ = _national_id(fields, "national_id", hasher)
    commission = _choice(fields, "commission", COMMISSIONS)
    kind = _choice(fields, "kind", RULING_KINDS)
    issued_on = _date(fields, "issued_at")
    if today is not None and issued_on > today:
        raise RowError(msg.issued_in_future("issued_at", issued_on, today), field="issued_at", reason="issued after today")
    amount = _amount(fields, "fine_amount_rials")
    if kind == "fine" and amount is None:
        raise RowError(msg.fine_needs_amount("fine_amount_rials"), field="fine_amount_rials", reason="a fine needs fine_amount_rials")
    text = _text(fields, "text", required=True) or ""
    return RulingRow(line=line, ruling_id=ruling_id, case_number=case_number, nid_hash=nid_hash,
                     commission=commission, kind=kind, issued_on=issued_on, fine_amount_rials=amount,
                     summary=_text(fields, "summary") or "", text=text)


def parse_subscriber(line: int, fields: Mapping[str, Any], hasher: Hasher) -> SubscriberRow:
    nid_hash, _ = _national_id(fields, "national_id", hasher)
    platform = _choice(fields, "platform", PLATFORMS)
    chat_id = _chat_id(fields, "chat_id", required=True)
    assert chat_id is not None
    user_id = _chat_id(fields, "user_id", required=False)
    if chat_id < 0 or (user_id is not None and user_id != chat_id):
        raise RowError(msg.CHAT_NOT_PRIVATE, field="chat_id", reason="not a private chat")
    return SubscriberRow(line=line, nid_hash=nid_hash, platform=platform, chat_id=chat_id, user_id=user_id)
