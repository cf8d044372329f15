"""Finglish (Persian in Latin letters): detection, transliteration, entities, and the model on it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlp import IntentModel, extract_entities
from nlp.evaluation import evaluate
from nlp.finglish import ENGLISH, is_finglish, to_persian, transliterate_with_offsets
from nlp.intents import OUT_OF_SCOPE
from nlp.model import FINGLISH_EVAL_FILE, FINGLISH_HOLDOUT_FILE, HOLDOUT_FILE, read_tsv
from nlp.normalize import normalize


@pytest.fixture(scope="module")
def model(intent_model: IntentModel) -> IntentModel:
    return intent_model


@pytest.mark.parametrize(("text", "expected"), [
    ("jarime man chande?", True),
    ("salam", True),
    ("جریمه من چقدره", False),
    ("پرونده 1403051234", False),
    ("1403051234", False),  # no letters at all
    ("parvande پرونده", False),  # half and half: not mostly Latin
    ("a", False),
])
def test_detects_text_written_mostly_in_latin_letters(text: str, expected: bool) -> None:
    assert is_finglish(text) is expected


def test_domain_words_are_written_as_the_commission_writes_them() -> None:
    assert to_persian("jarime") == "جریمه"
    assert to_persian("jarimeh eteraz etiraz") == "جریمه اعتراض اعتراض"
    assert to_persian("parvande komision tajdidnazar") == "پرونده کمیسیون تجدیدنظر"
    assert to_persian("eblaghiye shahrdari mantaghe 5") == "ابلاغیه شهرداری منطقه 5"
    assert to_persian("jarimam chande?") == "جریمه\u200cم چنده?"  # a suffix on a domain word


def test_english_words_stay_english_and_persian_text_is_untouched() -> None:
    assert to_persian("case status") == "case status"
    assert to_persian("help menu") == "help menu"
    assert {"in", "to", "man"}.isdisjoint(ENGLISH)  # also Finglish: این، تو، من
    persian = "جریمه من چقدره؟ 1403051234"
    assert to_persian(persian) == persian


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_offsets_always_point_back_into_the_original(text: str) -> None:
    persian, starts, ends = transliterate_with_offsets(text)
    assert len(starts) == len(ends) == len(persian)
    assert all(0 <= s < e <= len(text) for s, e in zip(starts, ends, strict=True))


@given(st.text(max_size=60))
def test_normalisation_stays_idempotent_with_finglish(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize(("text", "kind", "value", "surface"), [
    ("parvande 1403051234 chi shod", "case_number", "1403051234", "1403051234"),
    ("kod melli man 0012345679", "national_id", "0012345679", "0012345679"),
    ("jarimam 5000000 toman e?", "amount", 50_000_000, "5000000 toman"),
    ("jarime 2 milion tomane?", "amount", 20_000_000, "2 milion tomane"),
    ("tarikh jalase 1403/11/01 e?", "date", "2025-01-20", "1403/11/01"),
    ("shomaram 09121234567", "phone", "+989121234567", "09121234567"),
])
def test_entities_in_finglish(text: str, kind: str, value: object, surface: str) -> None:
    [entity] = [e for e in extract_entities(text) if e.type == kind]
    assert entity.value == value
    assert text[entity.start:entity.end] == surface


@pytest.mark.parametrize(("text", "intent"), [
    ("jarime man chande?", "fine_amount"),
    ("parvandam be koja resid", "case_status"),
    ("mohlat eteraz key tamoom mishe", "appeal_deadline"),
    ("mikham ba karshenas sohbat konam", "human"),
    ("salam", "greeting"),
    ("mersi", "thanks"),
    ("gheymat dolar chande", OUT_OF_SCOPE),
])
def test_the_model_understands_finglish(model: IntentModel, text: str, intent: str) -> None:
    assert model.analyze(text).intent == intent


@pytest.mark.parametrize("path", [FINGLISH_HOLDOUT_FILE, FINGLISH_EVAL_FILE], ids=["holdout", "eval"])
def test_finglish_held_out_accuracy(model: IntentModel, path: Path) -> None:
    examples = read_tsv(path)
    assert all(is_finglish(text) for _, text in examples)
    assert {intent for intent, _ in examples} == set(model.classifier.labels)
    report = evaluate(model, examples)
    assert report.accuracy >= 0.95, report.errors
    assert report.out_of_scope_recall >= 0.90, report.errors
    assert set(report.by_script) == {"finglish"}


def test_eval_reports_each_script_separately(model: IntentModel) -> None:
    persian_only = [(i, t) for i, t in read_tsv(HOLDOUT_FILE) if not re.search("[A-Za-z]", t)]
    mixed = persian_only[:40] + read_tsv(FINGLISH_HOLDOUT_FILE)[:10]
    report = evaluate(model, mixed)
    assert report.by_script["persian"].total == 40
    assert report.by_script["finglish"].total == 10


def test_classify_prints_only_json_even_when_the_transliterator_loads(tmp_path: Path) -> None:
    """The `finglish` package prints while it loads; `eblagh nlp classify` owns standard output."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "nlp", "--cache-dir", str(tmp_path), "classify"],
        input="vaziate parvandeye man chi shode\nجریمه من چقدره\n", capture_output=True, text=True,
        timeout=120, check=True)
    lines = result.stdout.splitlines()
    assert [json.loads(line)["intent"] for line in lines] == ["case_status", "fine_amount"]
