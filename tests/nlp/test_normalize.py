from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.normalize import STEPS, features_text, normalize

# Persian-heavy text: Arabic block, half-space, digits of three scripts, punctuation, anything else.
persianish = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
        st.sampled_from(" \u200c\u200d\n\t.,!?؟،۰۱۲۳۴۵۶۷۸۹0123456789ـ"),
        st.characters(),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(persianish)
def test_normalize_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.lists(st.sampled_from(STEPS), unique=True))
def test_every_subset_of_steps_works(text: str, steps: list[str]) -> None:
    assert isinstance(normalize(text, steps), str)


def test_unknown_step_is_an_error() -> None:
    with pytest.raises(ValueError):
        normalize("سلام", ["stemming"])


@pytest.mark.parametrize(
    "variant",
    ["می‌خوام پرونده‌ام رو ببینم", "میخوام پروندهام رو ببینم", "می خوام پرونده ام رو ببینم",
     "ميخوام پرونده‌ام رو ببينم", "میخوااااام پرونده ام رو ببینم"],
)
def test_spellings_of_one_sentence_meet(variant: str) -> None:
    assert features_text(normalize(variant)) == features_text(normalize("می‌خوام پرونده‌ام رو ببینم"))


def test_arabic_letters_and_digits_fold() -> None:
    assert normalize("كد ملي ١٢٣ ۴۵۶") == "کد ملی 123 456"


def test_colloquial_forms_become_formal() -> None:
    assert normalize("مهلتم کی تموم میشه") == "مهلتم کی تمام می‌شود"
    assert normalize("میخوام") == "می‌خواهم"


def test_punctuation_is_split_off_and_spaces_collapse() -> None:
    assert normalize("  جریمه   چقدره؟؟  ") == "جریمه چقدره ؟ ؟"
    assert normalize("سلام!!! خوبی؟") == "سلام ! خوبی ؟"  # runs of three or more collapse


def test_features_text_drops_half_spaces_and_masks_digits() -> None:
    assert features_text("پرونده‌ام 1403") == "پروندهام 0000"


def test_every_colloquial_table_entry_normalises_idempotently() -> None:
    from nlp.normalize import _informal_table

    for colloquial in _informal_table():
        once = normalize(colloquial)
        assert normalize(once) == once, colloquial


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
                                  st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFF)), max_size=30))
def test_hazm_step_equals_hazm_normalizer(text: str) -> None:
    from hazm import Normalizer

    from nlp.normalize import _hazm

    reference = Normalizer(correct_spacing=False, decrease_repeated_chars=False, seperate_mi=False,
                           persian_style=False, persian_numbers=False)
    assert _hazm(text) == reference.normalize(text)
