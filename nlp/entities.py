"""Entities in a citizen's message: national_id, case_number, date, amount, phone.

Extraction runs on the ORIGINAL text folded character for character (digits to ASCII, Arabic ي/ك to
Persian, each a one-to-one replacement), so every offset is an offset into what the citizen typed;
invisible formatting characters (ZWSP, RLM, BOM, ...; a ZWNJ too when it touches a digit) are set
aside first, with a map back to the original offsets, so a pasted «۰۰۱۲\u200b۳۴۵۶۷۹» is one number;
hazm's spacing fixes would break «۱۴۰۳/۱۱/۰۱» into «۱۴۰۳ / ۱۱ / ۰۱», which is why nothing here sees
normalised text.

Rules, in priority order (a character belongs to at most one entity):
1. date: YYYY/MM/DD or YYYY-MM-DD (also «.»); years 1300-1499 are Jalali and converted, 1900-2199
   Gregorian; also «۱ بهمن ۱۴۰۳» (day, Jalali month name, year). The value is the ISO (Gregorian)
   date. Impossible dates are not reported.
2. phone: an Iranian mobile with a prefix (09.., +989.., 00989.., 989..), groups may be separated by
   spaces or dashes; a bare 9xxxxxxxxx only right after «موبایل/همراه/تلفن/شماره». Value +989...
3. 10-digit numbers (or 3-6-1 dashed groups): right after «پرونده»/«کلاسه» they are a case_number;
   otherwise a valid national ID (checksum, nlp.identifiers) is a national_id and anything else is
   a case_number (case numbers like 1403051234 are ten digits too, and fail the checksum far more
   often than not); right after «کد ملی» a failing number is nothing at all. 8-9 digit IDs are accepted only right after «کد ملی» (left-padded, as DESIGN.md).
   Any other 4-12 digit number right after «پرونده»/«شماره پرونده»/«کلاسه» is a case_number.
4. amount: a number (digits or words) with a currency (تومان/تومن/ریال) or a scale (هزار/میلیون/
   میلیارد); value in Rials (Toman x 10). Without a currency the amount is taken as Tomans, which is
   how citizens speak («جریمه‌ام ۲ میلیون شده»).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

import jdatetime

from nlp.digits import is_invisible, to_ascii_digits
from nlp.finglish import is_finglish, transliterate_with_offsets
from nlp.identifiers import clean_national_id, is_valid_national_id, normalize_mobile
from nlp.numbers_fa import PHRASE, has_scale, parse_number_phrase

ENTITY_TYPES: tuple[str, ...] = ("national_id", "case_number", "date", "amount", "phone")


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity: `value` is normalised (ISO date, +989..., Rials as int, ASCII digits)."""

    type: str
    value: str | int
    start: int
    end: int

    def as_dict(self) -> dict[str, str | int]:
        return {"type": self.type, "value": self.value, "start": self.start, "end": self.end}


# One-to-one letter folding only, so offsets survive (nlp.digits also maps ۀ to two characters).
_LETTERS_1TO1 = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ؤ": "و", "إ": "ا", "أ": "ا",
                               "\u200c": " "})
_NOT_DIGIT_BEFORE = r"(?<![\d+])"
_NOT_DIGIT_AFTER = r"(?!\d)"

_DATE = re.compile(_NOT_DIGIT_BEFORE + r"(\d{4})([/\-.])(\d{1,2})\2(\d{1,2})" + _NOT_DIGIT_AFTER)
_JALALI_MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن",
                  "اسفند")
# «۱ بهمن ۱۴۰۳», «اول بهمن ۱۴۰۳» is left alone (ordinal words are rare in dates citizens type).
_JALALI_WORDS = re.compile(
    _NOT_DIGIT_BEFORE + r"(\d{1,2})\s*(?:ام|م)?\s+(" + "|".join(_JALALI_MONTHS) + r")(?:\s+ماه)?\s+(?:سال\s+)?(\d{4})"
    + _NOT_DIGIT_AFTER
)
_PHONE = re.compile(
    _NOT_DIGIT_BEFORE
    + r"(?:(?:\+|00)98[\s\-]?|98|0)9\d{2}[\s\-]?\d{3}[\s\-]?\d{2}[\s\-]?\d{2}"
    + _NOT_DIGIT_AFTER
)
_BARE_MOBILE = re.compile(_NOT_DIGIT_BEFORE + r"9\d{9}" + _NOT_DIGIT_AFTER)
_MOBILE_CUE = re.compile(r"(?:موبایل|موبایلم|همراه|همراهم|تلفن|شماره|شمارم|شماره‌ام)\s*[:：]?\s*$")
_TEN_DIGITS = re.compile(_NOT_DIGIT_BEFORE + r"(?:\d{10}|\d{3}-\d{6}-\d)" + _NOT_DIGIT_AFTER)
_DIGIT_RUN = re.compile(_NOT_DIGIT_BEFORE + r"\d{4,12}" + _NOT_DIGIT_AFTER)
_CASE_CUE = re.compile(r"(?:پرونده|پروندهٔ|پروندم|پرونده‌ام|پرونده ام|کلاسه|کلاسهٔ)(?:\s*(?:ی|به|با|شماره|شماره‌ی|شمارهٔ|کلاسه|:|#|\.|،))*\s*$")
_ID_CUE = re.compile(r"(?:کد\s?ملی|کدملی|شماره\s?ملی)(?:\s*(?:من|ام|م|:|،))*\s*$")
_CURRENCY = re.compile(r"[\s\u200c]*(تومان|تومن|ریال)(?:ه|ی)?(?![^\W\d_])")  # «تومنه»، «ریالی»
_CUE_WINDOW = 40


def _fold_1to1(text: str) -> str:
    folded = to_ascii_digits(text).translate(_LETTERS_1TO1)
    assert len(folded) == len(text)  # offsets are only valid while this holds
    return folded


def _without_invisible(text: str) -> tuple[str, list[int]]:
    """`text` without its invisible marks, and where each kept character (and the end) was in `text`.

    A ZWNJ between letters is spelling and stays (folded to a space); next to a digit it is noise.
    """
    if text.isascii():
        return text, list(range(len(text) + 1))
    kept = [i for i, char in enumerate(text)
            if not is_invisible(char) or (char == "\u200c" and not _touches_digit(text, i))]
    return "".join(text[i] for i in kept), [*kept, len(text)]


def _touches_digit(text: str, at: int) -> bool:
    """Whether the nearest visible character on either side of `at` is a digit."""
    before = at - 1
    while before >= 0 and is_invisible(text[before]):
        before -= 1
    after = at + 1
    while after < len(text) and is_invisible(text[after]):
        after += 1
    return (before >= 0 and text[before].isdecimal()) or (after < len(text) and text[after].isdecimal())


class _Spans:
    """Character ranges already claimed by an entity."""

    def __init__(self) -> None:
        self._taken: list[tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        """True when no claimed range overlaps [start, end)."""
        return all(end <= s or start >= e for s, e in self._taken)

    def take(self, start: int, end: int) -> None:
        self._taken.append((start, end))


def _iso_date(year: int, month: int, day: int) -> str | None:
    try:
        if 1300 <= year <= 1499:
            return jdatetime.date(year, month, day).togregorian().isoformat()
        if 1900 <= year <= 2199:
            return date(year, month, day).isoformat()
    except ValueError:
        return None
    return None


def _cue_before(folded: str, start: int, cue: re.Pattern[str]) -> bool:
    return cue.search(folded[max(0, start - _CUE_WINDOW):start]) is not None


def extract_entities(text: str) -> list[Entity]:
    """All entities in `text`, sorted by start offset; offsets index into `text` itself.

    Finglish is read in Persian script («parvande 1403051234», «5 million toman»), and each entity's
    offsets are mapped back to the words the citizen typed.
    """
    if not is_finglish(text):
        return _extract(text)
    persian, starts, ends = transliterate_with_offsets(text)
    return [replace(entity, start=starts[entity.start], end=ends[entity.end - 1])
            for entity in _extract(persian)]


def _extract(text: str) -> list[Entity]:
    visible, origin = _without_invisible(text)
    folded = _fold_1to1(visible)
    spans = _Spans()
    found: list[Entity] = []

    def add(kind: str, value: str | int, start: int, end: int) -> None:
        spans.take(start, end)
        found.append(Entity(kind, value, start, end))

    for match in _DATE.finditer(folded):
        iso = _iso_date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
        if iso is not None:
            add("date", iso, match.start(), match.end())

    for match in _JALALI_WORDS.finditer(folded):
        month = _JALALI_MONTHS.index(match.group(2)) + 1
        iso = _iso_date(int(match.group(3)), month, int(match.group(1)))
        if iso is not None and 1300 <= int(match.group(3)) <= 1499 and spans.free(match.start(), match.end()):
            add("date", iso, match.start(), match.end())

    for match in _PHONE.finditer(folded):
        mobile = normalize_mobile(match.group())
        if mobile is not None and spans.free(match.start(), match.end()):
            add("phone", mobile, match.start(), match.end())
    for match in _BARE_MOBILE.finditer(folded):
        if spans.free(match.start(), match.end()) and _cue_before(folded, match.start(), _MOBILE_CUE) \
                and not _cue_before(folded, match.start(), _ID_CUE):
            add("phone", "+98" + match.group(), match.start(), match.end())

    for match in _TEN_DIGITS.finditer(folded):
        if not spans.free(match.start(), match.end()):
            continue
        digits = match.group().replace("-", "")
        if _cue_before(folded, match.start(), _ID_CUE) and not is_valid_national_id(digits):
            spans.take(match.start(), match.end())  # a mistyped ID: neither an ID nor a case number
            continue
        if not _cue_before(folded, match.start(), _CASE_CUE) and is_valid_national_id(digits):
            add("national_id", digits, match.start(), match.end())
        else:
            add("case_number", digits, match.start(), match.end())
    for match in _DIGIT_RUN.finditer(folded):
        if not spans.free(match.start(), match.end()):
            continue
        if _cue_before(folded, match.start(), _ID_CUE) and len(match.group()) in (8, 9) \
                and is_valid_national_id(match.group()):
            add("national_id", clean_national_id(match.group()), match.start(), match.end())
        elif _cue_before(folded, match.start(), _CASE_CUE):
            add("case_number", match.group(), match.start(), match.end())

    # Claimed characters are masked so «1403051234 دو میلیون» still yields the amount.
    masked = list(folded)
    for entity in found:
        masked[entity.start:entity.end] = "\x00" * (entity.end - entity.start)
    for match in PHRASE.finditer("".join(masked)):
        start, end = match.start(), match.end()
        currency = _CURRENCY.match(folded, end)
        if currency is None and not has_scale(match.group()):
            continue
        value = parse_number_phrase(match.group())
        if value is None or value <= 0:
            continue
        unit = currency.group(1) if currency else "تومان"
        if currency is not None:
            end = currency.end(1)  # the copula or suffix («تومنه») is not part of the amount
        add("amount", value if unit == "ریال" else value * 10, start, end)

    # Offsets into `visible` become offsets into what the citizen typed.
    return sorted((Entity(e.type, e.value, origin[e.start], origin[e.end - 1] + 1) for e in found),
                  key=lambda entity: entity.start)
