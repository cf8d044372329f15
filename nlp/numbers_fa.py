"""Persian number words to integers: «دو میلیون و پانصد هزار» → 2_500_000.

Works on text already folded by nlp.digits (ASCII digits, Persian letters). A number phrase is a run
of number words and digit groups joined by «و»; scales (هزار، میلیون، میلیارد) multiply what comes
before them, so «۲ میلیون و ۵۰۰ هزار» mixes digits and words the way citizens do.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

UNITS: dict[str, int] = {
    "صفر": 0, "یک": 1, "یه": 1, "دو": 2, "سه": 3, "چهار": 4, "پنج": 5, "شش": 6, "شیش": 6, "هفت": 7,
    "هشت": 8, "نه": 9, "ده": 10, "یازده": 11, "دوازده": 12, "سیزده": 13, "چهارده": 14, "پانزده": 15,
    "پونزده": 15, "شانزده": 16, "شونزده": 16, "هفده": 17, "هیفده": 17, "هجده": 18, "هیجده": 18,
    "نوزده": 19, "بیست": 20, "سی": 30, "چهل": 40, "پنجاه": 50, "شصت": 60, "هفتاد": 70, "هشتاد": 80,
    "نود": 90, "صد": 100, "یکصد": 100, "دویست": 200, "سیصد": 300, "چهارصد": 400, "پانصد": 500,
    "پونصد": 500, "ششصد": 600, "شیشصد": 600, "هفتصد": 700, "هشتصد": 800, "نهصد": 900,
}
SCALES: dict[str, int] = {"هزار": 1_000, "میلیون": 1_000_000, "ملیون": 1_000_000, "میلیارد": 1_000_000_000}
HALF = "نیم"

# One number token: digits with thousands separators or a decimal part, or a number word.
_WORDS = sorted([*UNITS, *SCALES, HALF], key=len, reverse=True)
DIGITS = r"\d{1,3}(?:[,٬]\d{3})+|\d+(?:[.٫/]\d+)?"
TOKEN = rf"(?:{DIGITS}|(?:{'|'.join(_WORDS)})(?![^\W\d_]))"
# Tokens joined by spaces/half-spaces and optionally «و».
PHRASE = re.compile(rf"(?<![^\W\d_]){TOKEN}(?:(?:[\s\u200c]+و)?[\s\u200c]*{TOKEN})*")
_TOKEN_RE = re.compile(TOKEN)


def _token_value(token: str) -> Decimal | None:
    if token in UNITS:
        return Decimal(UNITS[token])
    if token in SCALES:
        return Decimal(SCALES[token])
    if token == HALF:
        return Decimal("0.5")
    cleaned = token.replace(",", "").replace("٬", "").replace("٫", ".").replace("/", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def parse_number_phrase(phrase: str) -> int | None:
    """The integer a number phrase denotes, or None when it is not one (e.g. «و» alone)."""
    tokens = _TOKEN_RE.findall(phrase)
    if not tokens:
        return None
    total = Decimal(0)
    current = Decimal(0)
    seen_value = False
    for token in tokens:
        value = _token_value(token)
        if value is None:
            return None
        if token in SCALES:
            # «دو و نیم میلیون»: the pending 2.5 is scaled; a bare «هزار» means one thousand.
            total += (current if seen_value else Decimal(1)) * value
            current = Decimal(0)
            seen_value = False
        else:
            current += value
            seen_value = True
    total += current
    return int(total)


def has_scale(phrase: str) -> bool:
    return any(token in SCALES for token in _TOKEN_RE.findall(phrase))
