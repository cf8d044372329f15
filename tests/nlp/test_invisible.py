"""Invisible formatting characters (Unicode Cf) pasted into identifiers change nothing.

Phones and copy-paste from PDFs and web pages leave ZWSP, ZWNJ, LRM/RLM, bidi overrides and BOMs
inside numbers; a national ID, mobile or case number must read the same with or without them.
"""

from __future__ import annotations

import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from nlp import extract_entities
from nlp.digits import strip_invisible, to_persian_digits
from nlp.identifiers import clean_case_number, clean_national_id, national_id_problem, normalize_mobile

FORMAT_CHARS = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
SEEN_IN_THE_WILD = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"


def _checksum_digit(nine: str) -> str:
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(nine)) % 11
    return str(remainder if remainder < 2 else 11 - remainder)


valid_ids = (st.text(alphabet="0123456789", min_size=9, max_size=9)
             .map(lambda nine: nine + _checksum_digit(nine))
             .filter(lambda nid: national_id_problem(nid) is None))
mobiles = st.tuples(st.sampled_from(["09", "+989", "989", "00989", "9"]),
                    st.text(alphabet="0123456789", min_size=9, max_size=9)).map("".join)
case_numbers = st.text(alphabet="0123456789", min_size=4, max_size=12)
invisible = st.lists(st.sampled_from(FORMAT_CHARS) | st.sampled_from(SEEN_IN_THE_WILD), min_size=1, max_size=6)
persian = st.booleans()


def _sprinkle(data: st.DataObject, text: str) -> str:
    """`text` with invisible characters inserted at random places (the ends included)."""
    chars = list(text)
    for mark in data.draw(invisible):
        chars.insert(data.draw(st.integers(0, len(chars))), mark)
    return "".join(chars)


def _digits(text: str, in_persian: bool) -> str:
    return to_persian_digits(text) if in_persian else text


def test_every_format_character_is_known() -> None:
    assert len(FORMAT_CHARS) > 150 and all(c in FORMAT_CHARS for c in SEEN_IN_THE_WILD)
    assert strip_invisible("".join(FORMAT_CHARS)) == ""
    assert strip_invisible("پرونده\u200cام ۱۲") == "پروندهام ۱۲"


@settings(max_examples=300, deadline=None)
@given(st.data(), valid_ids, persian)
def test_national_id_is_the_same_with_invisible_characters(data: st.DataObject, nid: str, in_persian: bool) -> None:
    pasted = _sprinkle(data, _digits(nid, in_persian))
    assert clean_national_id(pasted) == nid
    assert national_id_problem(pasted) is None


@settings(max_examples=300, deadline=None)
@given(st.data(), mobiles, persian)
def test_mobile_is_the_same_with_invisible_characters(data: st.DataObject, mobile: str, in_persian: bool) -> None:
    expected = normalize_mobile(mobile)
    assert expected is not None and expected.startswith("+989")
    assert normalize_mobile(_sprinkle(data, _digits(mobile, in_persian))) == expected


@settings(max_examples=300, deadline=None)
@given(st.data(), case_numbers, persian)
def test_case_number_is_the_same_with_invisible_characters(data: st.DataObject, number: str, in_persian: bool) -> None:
    assert clean_case_number(_sprinkle(data, _digits(number, in_persian))) == number


@settings(max_examples=200, deadline=None)
@given(st.data(), valid_ids, persian)
def test_entities_find_a_pasted_national_id(data: st.DataObject, nid: str, in_persian: bool) -> None:
    number = _sprinkle(data, _digits(nid, in_persian))
    text = f"کد ملی من {number} است"
    found = [e for e in extract_entities(text) if e.type == "national_id"]
    assert [e.value for e in found] == [nid]
    # The span covers the number as typed, from its first digit to its last.
    span = text[found[0].start:found[0].end]
    assert strip_invisible(span) == _digits(nid, in_persian)


@settings(max_examples=200, deadline=None)
@given(st.data(), mobiles.filter(lambda m: not m.startswith("9")), persian)
def test_entities_find_a_pasted_mobile(data: st.DataObject, mobile: str, in_persian: bool) -> None:
    text = f"شماره من {_sprinkle(data, _digits(mobile, in_persian))}"
    assert [e.value for e in extract_entities(text) if e.type == "phone"] == [normalize_mobile(mobile)]


@settings(max_examples=200, deadline=None)
@given(st.data(), st.text(alphabet="0123456789", min_size=10, max_size=10), persian)
def test_entities_find_a_pasted_case_number(data: st.DataObject, number: str, in_persian: bool) -> None:
    text = f"وضعیت پرونده {_sprinkle(data, _digits(number, in_persian))} چیست"
    assert [e.value for e in extract_entities(text) if e.type == "case_number"] == [number]


def test_a_zwnj_between_words_is_still_spelling() -> None:
    # «پرونده‌ی» with its half-space is still the cue that makes the number a case number.
    text = "پرونده\u200cی ۰۰۱۲۳۴۵۶۷۹"  # a valid national ID's digits, but after the case cue
    assert [(e.type, e.value) for e in extract_entities(text)] == [("case_number", "0012345679")]
