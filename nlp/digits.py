"""Digit and letter folding shared by every Persian text path.

Citizens type Persian (۰-۹), Arabic-Indic (٠-٩) or Latin digits, and Arabic ي/ك; the rest of the
project only ever sees ASCII digits and Persian letters after these functions.
"""

from __future__ import annotations

_PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC = "٠١٢٣٤٥٦٧٨٩"
_TO_ASCII = str.maketrans(_PERSIAN + _ARABIC, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", _PERSIAN)
_ARABIC_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "هٔ", "ؤ": "و", "إ": "ا", "أ": "ا"})


def to_ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits become ASCII; everything else is kept."""
    return text.translate(_TO_ASCII)


def to_persian_digits(text: str) -> str:
    """ASCII digits become Persian digits, for text shown to citizens."""
    return text.translate(_TO_PERSIAN)


def fold_arabic_letters(text: str) -> str:
    """Arabic ي/ك (and friends) become their Persian forms."""
    return text.translate(_ARABIC_LETTERS)


def fold(text: str) -> str:
    """Both foldings: what every parser of citizen input starts with."""
    return fold_arabic_letters(to_ascii_digits(text))
