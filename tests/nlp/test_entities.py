from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp import Entity, extract_entities


def only(text: str) -> Entity:
    entities = extract_entities(text)
    assert len(entities) == 1, entities
    return entities[0]


@pytest.mark.parametrize("text", ["کد ملی ۰۰۱۲۳۴۵۶۷۹", "کد ملی ٠٠١٢٣٤٥٦٧٩", "کد ملی 0012345679", "كد ملي 001-234567-9"])
def test_national_id_in_any_digits(text: str) -> None:
    entity = only(text)
    assert (entity.type, entity.value) == ("national_id", "0012345679")
    assert text[entity.start:entity.end].strip()[-1] in "9٩۹"


def test_checksum_failing_id_is_not_a_national_id() -> None:
    assert all(e.type != "national_id" for e in extract_entities("کد ملی من ۰۰۱۲۳۴۵۶۷۸ است"))
    assert extract_entities("کد ملی ۰۰۱۲۳۴۵۶۷۸") == []
    assert all(e.type != "national_id" for e in extract_entities("۱۱۱۱۱۱۱۱۱۱"))  # all-same passes checksum


def test_eight_digit_id_after_cue_is_padded() -> None:
    entity = only("کدملی: 12345679")
    assert entity.type == "national_id" and entity.value == "0012345679"


def test_ten_digit_number_failing_checksum_is_a_case_number() -> None:
    entity = only("وضعیت ۱۴۰۳۰۵۱۲۳۴ چیه")
    assert (entity.type, entity.value) == ("case_number", "1403051234")


def test_case_cue_wins_over_a_valid_checksum() -> None:
    entity = only("پرونده شماره 0012345679")
    assert entity.type == "case_number"


def test_short_case_number_needs_its_cue() -> None:
    assert only("شماره پرونده ۱۲۳۴۵۶").value == "123456"
    assert extract_entities("۱۲۳۴۵۶ تا") == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [("جلسه ۱۴۰۳/۱۱/۰۱ است", "2025-01-20"), ("1403/11/1", "2025-01-20"), ("١٤٠٣-١١-٠١", "2025-01-20"),
     ("2025-02-10", "2025-02-10"), ("تاریخ 2025/2/10", "2025-02-10"), ("۱ بهمن ۱۴۰۳", "2025-01-20"),
     ("۱۵ مهر ماه ۱۴۰۲", "2023-10-07")],
)
def test_dates(text: str, iso: str) -> None:
    entity = only(text)
    assert (entity.type, entity.value) == ("date", iso)


def test_impossible_dates_are_ignored() -> None:
    assert [e for e in extract_entities("۱۴۰۳/۱۳/۰۱ و 2025-02-30") if e.type == "date"] == []


@pytest.mark.parametrize(
    ("text", "rials"),
    [("۲ میلیون تومان", 20_000_000), ("2 میلیون تومن", 20_000_000), ("دو میلیون تومان", 20_000_000),
     ("۱۲۵٬۰۰۰٬۰۰۰ ریال", 125_000_000), ("1,250,000 تومان", 12_500_000),
     ("دو میلیون و پانصد هزار تومان", 25_000_000), ("۲ میلیون و ۵۰۰ هزار ریال", 2_500_000),
     ("۱.۵ میلیون تومان", 15_000_000), ("پانصد هزار", 5_000_000), ("صد و بیست ریال", 120)],
)
def test_amounts_in_rials(text: str, rials: int) -> None:
    entity = only(text)
    assert (entity.type, entity.value) == ("amount", rials)
    assert (entity.start, entity.end) == (0, len(text))


def test_plain_numbers_are_not_amounts() -> None:
    assert extract_entities("ده روز مهلت دارم") == []


@pytest.mark.parametrize("text", ["۰۹۱۲۳۴۵۶۷۸۹", "0912 345 6789", "+98 912 345 6789", "00989123456789",
                                  "شماره موبایلم 9123456789"])
def test_mobiles(text: str) -> None:
    entity = only(text)
    assert (entity.type, entity.value) == ("phone", "+989123456789")


def test_offsets_point_into_the_original_text() -> None:
    text = "سلام، كد ملي ۰۰۱۲۳۴۵۶۷۹ و پرونده‌ی ۱۴۰۳۰۵۱۲۳۴؛ جلسه ۱۴۰۳/۱۱/۰۱ و جریمه ۲ میلیون تومان، موبایل ۰۹۱۲۳۴۵۶۷۸۹"
    found = {e.type: text[e.start:e.end] for e in extract_entities(text)}
    assert found == {
        "national_id": "۰۰۱۲۳۴۵۶۷۹",
        "case_number": "۱۴۰۳۰۵۱۲۳۴",
        "date": "۱۴۰۳/۱۱/۰۱",
        "amount": "۲ میلیون تومان",
        "phone": "۰۹۱۲۳۴۵۶۷۸۹",
    }


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from("۰۱۲۳۴۵۶۷۸۹0123456789٠١٢/-+ ,٬."), st.characters()), max_size=60))
def test_extraction_never_raises_and_spans_are_sane(text: str) -> None:
    previous_end = 0
    for entity in extract_entities(text):
        assert 0 <= previous_end <= entity.start < entity.end <= len(text)
        previous_end = entity.end


def test_currency_with_a_colloquial_suffix() -> None:
    text = "جریمه‌م ۵۰۰ هزار تومنه"
    entity = only(text)
    assert entity.value == 5_000_000 and text[entity.start:entity.end] == "۵۰۰ هزار تومن"
