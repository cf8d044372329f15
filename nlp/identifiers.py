"""Iranian national IDs (کد ملی) and mobile numbers: normalisation and validation.

Rules from DESIGN.md. These are pure functions so the importers, the conversation and the entity
extractor agree on what a valid ID or mobile is.
"""

from __future__ import annotations

import re
from enum import StrEnum

from nlp.digits import strip_invisible, to_ascii_digits

_SEPARATORS = re.compile(r"[\s\-\u200c_.]+")


class NationalIdProblem(StrEnum):
    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"
    ALL_SAME = "all_same"
    CHECKSUM = "checksum"


def clean_national_id(raw: str) -> str:
    """Fold digits, drop invisible marks, spaces and dashes, left-pad 8-9 digits to 10."""
    text = _SEPARATORS.sub("", to_ascii_digits(strip_invisible(raw)).strip())
    if text.isdigit() and 8 <= len(text) <= 9:
        text = text.zfill(10)
    return text


def national_id_problem(raw: str) -> NationalIdProblem | None:
    """None when `raw` is a valid national ID, else the first reason it is not."""
    text = clean_national_id(raw)
    if not text:
        return NationalIdProblem.EMPTY
    if not text.isascii() or not text.isdigit():
        return NationalIdProblem.NOT_DIGITS
    if len(text) != 10:
        return NationalIdProblem.WRONG_LENGTH
    if len(set(text)) == 1:
        return NationalIdProblem.ALL_SAME
    if not checksum_ok(text):
        return NationalIdProblem.CHECKSUM
    return None


def checksum_ok(ten_digits: str) -> bool:
    digits = [int(c) for c in ten_digits]
    remainder = sum(d * (10 - i) for i, d in enumerate(digits[:9])) % 11
    check = digits[9]
    return check == remainder if remainder < 2 else check == 11 - remainder


def is_valid_national_id(raw: str) -> bool:
    return national_id_problem(raw) is None


def mask_national_id(ten_digits: str) -> str:
    """001****679: enough for a citizen to recognise, not enough to identify."""
    return ten_digits[:3] + "****" + ten_digits[-3:]


def normalize_mobile(raw: str) -> str | None:
    """+989XXXXXXXXX for any Iranian mobile form (09.., 9.., +98.., 0098..), else None."""
    digits = re.sub(r"\D", "", to_ascii_digits(strip_invisible(raw)))
    if digits.startswith("0098"):
        digits = digits[4:]
    elif digits.startswith("98") and len(digits) == 12:
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    if len(digits) == 10 and digits.startswith("9"):
        return "+98" + digits
    return None


def clean_case_number(raw: str) -> str:
    """A case number as typed or pasted: digits folded to ASCII, invisible marks and outer blanks
    dropped (inner separators are part of some municipalities' numbering and are kept)."""
    return to_ascii_digits(strip_invisible(raw)).strip()


def mask_mobile(normalized: str) -> str:
    """+98912***4567."""
    return normalized[:6] + "***" + normalized[-4:]
