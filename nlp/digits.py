"""Digit and letter folding shared by every Persian text path.

Citizens type Persian (۰-۹), Arabic-Indic (٠-٩) or Latin digits, and Arabic ي/ك; the rest of the
project only ever sees ASCII digits and Persian letters after these functions.
"""

from __future__ import annotations

import unicodedata

_PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC = "٠١٢٣٤٥٦٧٨٩"
_TO_ASCII = str.maketrans(_PERSIAN + _ARABIC, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", _PERSIAN)
_ARABIC_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "هٔ", "ؤ": "و", "إ": "ا", "أ": "ا"})


def is_invisible(char: str) -> bool:
    """An invisible formatting character (Unicode category Cf: ZWSP, ZWNJ, ZWJ, LRM/RLM, the bidi
    embeddings and isolates, BOM, word joiner, ...); phones and copy-paste leave them in numbers."""
    return unicodedata.category(char) == "Cf"


def strip_invisible(text: str) -> str:
    """`text` without its invisible formatting characters: for identifiers, never for prose (ZWNJ
    is part of Persian spelling)."""
    if text.isascii():  # no ASCII character is Cf: the common case costs nothing
        return text
    return "".join(c for c in text if not is_invisible(c))


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
