from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp import INTENTS, IntentModel
from nlp.evaluation import evaluate
from nlp.finglish import is_finglish
from nlp.intents import OUT_OF_SCOPE
from nlp.model import (
    BLIND_FILE,
    EVAL_FILE,
    FINGLISH_EVAL_FILE,
    FINGLISH_HOLDOUT_FILE,
    HOLDOUT_FILE,
    OTHER_CUE,
    TRAIN_FILE,
    model_text,
    read_tsv,
)
from nlp.normalize import features_text, normalize


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("جریمه من چقدره؟", "fine_amount"),
        ("مهلت اعتراضم کی تموم میشه", "appeal_deadline"),
        ("پروندم به کجا رسید", "case_status"),
        ("میخوام با کارشناس صحبت کنم", "human"),
        ("قیمت دلار چنده", "out_of_scope"),
        # the same questions as citizens also type them
        ("جريمه من چقدره", "fine_amount"),
        ("مهلت اعتراض‌ام کی تمام می‌شود؟", "appeal_deadline"),
        ("پرونده م به کجا رسیده", "case_status"),
    ],
)
def test_issue_examples(model: IntentModel, text: str, intent: str) -> None:
    analysis = model.analyze(text)
    assert analysis.intent == intent
    assert 0.5 < analysis.confidence <= 1.0


def test_two_questions_make_two_parts(model: IntentModel) -> None:
    text = "جریمه من چقدره و مهلت اعتراضم کی تموم میشه؟"
    analysis = model.analyze(text)
    assert [p.intent for p in analysis.parts] == ["fine_amount", "appeal_deadline"]
    assert [text[p.start:p.end] for p in analysis.parts] == [p.text for p in analysis.parts]
    assert analysis.intent == "fine_amount"


@pytest.mark.parametrize(
    "text",
    ["سلام. جلسه رسیدگی کی هست؟ همچنین رای من چی شد", "جلسه رسیدگی کی هست\nرای من چی شد"],
)
def test_sentence_marks_split(model: IntentModel, text: str) -> None:
    intents = [p.intent for p in model.analyze(text).parts]
    assert intents[-2:] == ["hearing_date", "ruling"]


def test_and_inside_one_question_does_not_split(model: IntentModel) -> None:
    analysis = model.analyze("آدرس و شماره تلفن شهرداری منطقه")
    assert len(analysis.parts) == 1 and analysis.intent == "contact"


def test_greeting_before_a_question_yields_the_question(model: IntentModel) -> None:
    analysis = model.analyze("سلام. وضعیت پروندم چیه؟")
    assert [p.intent for p in analysis.parts] == ["greeting", "case_status"]
    assert analysis.intent == "case_status"


def test_top_lists_closest_intents(model: IntentModel) -> None:
    part = model.analyze("مهلت اعتراض").parts[0]
    assert len(part.top) == 3
    assert part.top[0][0] == part.intent
    assert all(label in INTENTS for label, _ in part.top)
    scores = [score for _, score in part.top]
    assert scores == sorted(scores, reverse=True)


def test_low_confidence_falls_back_to_out_of_scope(model: IntentModel) -> None:
    strict = IntentModel(model.classifier, threshold=1.01)
    part = strict.analyze("جریمه من چقدره").parts[0]
    assert part.intent == OUT_OF_SCOPE
    assert part.top[0][0] == "fine_amount"  # the buttons can still offer it


def test_labels_are_exactly_the_fifteen(model: IntentModel) -> None:
    assert set(model.classifier.labels) == set(INTENTS) and len(INTENTS) == 15


def test_training_data_covers_every_intent_richly() -> None:
    train = read_tsv(TRAIN_FILE)
    evaluation = read_tsv(EVAL_FILE)
    for intent in INTENTS:
        assert sum(i == intent for i, _ in train) >= 40
        assert sum(i == intent for i, _ in evaluation) >= 15
    assert not {t for _, t in train} & {t for _, t in evaluation}


def test_eval_set_accuracy(model: IntentModel) -> None:
    report = evaluate(model, read_tsv(EVAL_FILE))
    assert report.accuracy >= 0.95, report.errors
    assert report.out_of_scope_recall >= 0.85


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_analyze_never_raises(model: IntentModel, text: str) -> None:
    analysis = model.analyze(text)
    assert analysis.intent in INTENTS
    assert 0.0 <= analysis.confidence <= 1.0
    assert analysis.parts
    for part in analysis.parts:
        assert 0 <= part.start <= part.end <= len(text)
        assert 0.0 <= part.confidence <= 1.0


def test_greeting_without_punctuation_is_cut_off(model: IntentModel) -> None:
    analysis = model.analyze("سلام خسته نباشید من پرونده ام رو میخواستم پیگیری کنم ببینم چی شده")
    assert [p.intent for p in analysis.parts] == ["greeting", "case_status"]
    assert analysis.intent == "case_status"


def test_greeting_alone_stays_a_greeting(model: IntentModel) -> None:
    analysis = model.analyze("سلام وقت بخیر")
    assert analysis.intent == "greeting" and len(analysis.parts) == 1


@pytest.mark.parametrize(
    ("text", "intents"),
    [
        ("رای من چی شد؟ مهلت اعتراضم کی تموم میشه؟", ["ruling", "appeal_deadline"]),
        ("پروندم به کجا رسید همچنین جریمه ام چقدره", ["case_status", "fine_amount"]),
        ("جلسه رسیدگی کیه و آدرس کمیسیون کجاست", ["hearing_date", "contact"]),
    ],
)
def test_more_two_question_messages(model: IntentModel, text: str, intents: list[str]) -> None:
    assert [p.intent for p in model.analyze(text).parts] == intents


def test_as_dict_is_the_cli_shape(model: IntentModel) -> None:
    data = model.analyze("جریمه ۲ میلیون تومان").as_dict()
    assert {"text", "intent", "confidence", "entities", "parts"} == set(data)
    assert data["entities"] == [{"type": "amount", "value": 20_000_000, "start": 6, "end": 20}]


def test_a_pasted_wall_of_text_stays_fast(model: IntentModel) -> None:
    import time

    text = "جریمه من چقدره و رای من چیه و " * 700 + "کد ملی ۰۰۱۲۳۴۵۶۷۹"
    began = time.perf_counter()
    analysis = model.analyze(text)
    assert time.perf_counter() - began < 1.0
    assert analysis.entities[-1].type == "national_id"  # entities still come from the whole text


def test_a_case_question_outranks_help_and_courtesies(model: IntentModel) -> None:
    assert model.analyze("متوجه نشدم. جریمه من چقدره؟").intent == "fine_amount"
    assert model.analyze("ممنون. راهنما").intent == "help"
    assert model.analyze("سلام. ممنون").intent == "greeting"


def _key(text: str) -> str:
    return features_text(normalize(text)).replace(" ", "").replace("?", "").replace("؟", "")


def test_held_out_sets_share_no_text_with_training() -> None:
    trained = {_key(text) for _, text in read_tsv(TRAIN_FILE)} | {_key(text) for _, text in read_tsv(EVAL_FILE)}
    for path in (HOLDOUT_FILE, BLIND_FILE):
        held = read_tsv(path)
        assert not [text for _, text in held if _key(text) in trained], path
        assert set(INTENTS) == {intent for intent, _ in held}
    holdout = read_tsv(HOLDOUT_FILE)
    assert all(sum(i == intent for i, _ in holdout) >= 20 for intent in INTENTS)
    assert sum(i == OUT_OF_SCOPE for i, _ in holdout) >= 80


def test_finglish_held_out_sets_share_no_text_with_finglish_training() -> None:
    """A Finglish question whose Persian-script form is a training example is fair (that is what the
    transliteration is for); one whose Finglish spelling was trained on is not."""
    trained = {_key(text) for _, text in read_tsv(TRAIN_FILE) if is_finglish(text)}
    for path in (FINGLISH_EVAL_FILE, FINGLISH_HOLDOUT_FILE):
        held = read_tsv(path)
        assert not [text for _, text in held if _key(text) in trained], path
        assert set(INTENTS) == {intent for intent, _ in held}


@pytest.mark.parametrize("path", [HOLDOUT_FILE, BLIND_FILE], ids=["holdout", "holdout_blind"])
def test_held_out_accuracy(model: IntentModel, path: Path) -> None:
    report = evaluate(model, read_tsv(path))
    assert report.accuracy >= 0.95, report.errors
    assert report.out_of_scope_recall >= 0.85, report.errors


@pytest.mark.parametrize(
    ("theirs", "ours", "intent"),
    [
        ("جریمه رانندگیم رو کجا بدم", "جریمه ساختمانم رو کجا بدم", "payment"),
        ("مهلت اعتراض به جریمه دوربین", "مهلت اعتراض به رای کمیسیون کیه", "appeal_deadline"),
        ("جلسه دادگاهم کیه", "جلسه کمیسیونم کیه", "hearing_date"),
        ("عوارض خودروم چقدره", "جریمه ملکم چقدره", "fine_amount"),
    ],
)
def test_the_context_decides_whose_fine_it_is(model: IntentModel, theirs: str, ours: str, intent: str) -> None:
    assert model.analyze(theirs).intent == OUT_OF_SCOPE
    assert model.analyze(ours).intent == intent


def test_a_greeting_before_another_services_question_is_out_of_scope(model: IntentModel) -> None:
    assert model.analyze("سلام. قبض برقم چقدره؟").intent == OUT_OF_SCOPE
    assert model.analyze("سلام ببخشید خلافی ماشینم چقدر شده").intent == OUT_OF_SCOPE
    assert model.analyze("سلام، ببخشید مزاحم شدم").intent == "greeting"  # a courtesy, not a question


def test_other_services_words_add_the_cue() -> None:
    assert model_text(normalize("قبضم اومده")).endswith(OTHER_CUE)
    assert model_text(normalize("جریمه رانندگی")).endswith(OTHER_CUE)
    assert OTHER_CUE not in model_text(normalize("ارتباط برقرار کنم"))  # «برقرار» is not «برق»
    assert OTHER_CUE not in model_text(normalize("جریمه ملک پلاک ۱۲"))
