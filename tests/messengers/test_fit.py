"""Every message fits the messenger: bot/messengers/fit.py, checked with the fake Bot API's own HTML parser."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messengers.fit import cut_points, fit, marker, split_html, utf16_len
from services.messaging import TEXT_LIMIT, Button, OutgoingMessage
from tests.botapi.rules import parse_html

BUTTONS = ((Button("باز کردن", "o:1"),),)
MARKER = re.compile(r"^\(([۰-۹]+)/([۰-۹]+)\)\n")


def shown(markup: str) -> str:
    """What the chat shows of a part, as the fake server (tdlib's rules) parses it, before trimming."""
    return parse_html(markup).text


def unmarked(parts: list[OutgoingMessage]) -> str:
    texts = []
    for number, part in enumerate(parts, start=1):
        text = shown(part.html)
        assert text.startswith(marker(number, len(parts))), text[:20]
        texts.append(text[len(marker(number, len(parts))):])
    return "".join(texts)


def test_a_message_that_fits_is_left_alone() -> None:
    message = OutgoingMessage("<b>رأی</b> &amp; " + "ب" * 4000, buttons=BUTTONS)
    assert fit(message) == [message]
    emoji = OutgoingMessage("🙂" * 2048)  # 4096 UTF-16 units exactly
    assert fit(emoji) == [emoji]


def test_length_is_counted_after_parsing_in_utf16_units() -> None:
    # 3000 visible characters in 15000 characters of source: one message.
    assert len(fit(OutgoingMessage("<b>&amp;</b>" * 3000))) == 1
    # 2049 emoji are 4098 UTF-16 units: two messages, no surrogate pair cut.
    parts = fit(OutgoingMessage("🙂" * 2049))
    assert len(parts) == 2
    assert all(utf16_len(shown(p.html)) <= TEXT_LIMIT for p in parts)
    assert unmarked(parts) == "🙂" * 2049


def test_paragraphs_are_kept_whole_and_parts_numbered() -> None:
    paragraphs = [f"بند {i}: " + "متن رأی کمیسیون ماده صد. " * 40 for i in range(12)]
    message = OutgoingMessage("\n\n".join(paragraphs), buttons=BUTTONS)
    parts = fit(message)
    assert len(parts) == 3
    assert [MARKER.match(p.html).groups() for p in parts] == [("۱", "۳"), ("۲", "۳"), ("۳", "۳")]  # type: ignore[union-attr]
    for part in parts:
        body = shown(part.html)
        assert utf16_len(body) <= TEXT_LIMIT
        assert body.rstrip().endswith(".")  # every part ends where a paragraph ends
    assert unmarked(parts) == "\n\n".join(paragraphs)
    # The buttons go with the last part only.
    assert [p.buttons for p in parts] == [(), (), BUTTONS]


def test_sentences_then_words_then_characters() -> None:
    sentence = "این جمله‌ای از متن طولانی است؟ "
    parts = split_html(sentence * 300, 1000)
    assert all(shown(p).endswith("؟ ") for p in parts[:-1])
    words = split_html("واژه " * 1000, 1000)
    assert all(shown(p).endswith(" ") for p in words[:-1])
    assert "".join(shown(p) for p in words) == "واژه " * 1000
    long_word = "ب" * 2500
    assert [len(shown(p)) for p in split_html(long_word, 1000)] == [1000, 1000, 500]


def test_tags_are_closed_and_reopened_and_entities_never_cut() -> None:
    source = "<b>" + "بند &lt;الف&gt; &amp; " * 400 + '<a href="https://x.ir/?a=1&amp;b=2">پیوند</a></b>'
    parts = split_html(source, 700)
    assert len(parts) > 1
    for part in parts:
        parsed = parse_html(part)  # raises on unbalanced tags or a cut entity
        assert utf16_len(parsed.text) <= 700
        assert part.startswith("<b>") and part.endswith("</b>")
        assert [e["type"] for e in parsed.entities][0] == "bold"
    assert "".join(shown(p) for p in parts) == shown(source)
    assert 'href="https://x.ir/?a=1&amp;b=2"' in parts[-1]


def test_an_edit_too_long_becomes_the_edit_and_new_messages() -> None:
    message = OutgoingMessage("متن " * 2000, buttons=BUTTONS, edit_message_id=77)
    parts = fit(message)
    assert len(parts) == 2
    assert [p.edit_message_id for p in parts] == [77, None]
    assert [p.buttons for p in parts] == [(), BUTTONS]


def test_a_reply_keyboard_goes_with_the_last_part() -> None:
    parts = fit(OutgoingMessage("الف " * 3000, request_contact="ارسال شماره"))
    assert [p.request_contact for p in parts] == [None, None, "ارسال شماره"]


def test_a_combining_mark_stays_with_its_letter() -> None:
    text = "بِ" * 20  # beh + kasra, no spaces: only a hard cut is possible
    for part in split_html(text, 7):
        assert shown(part)[0] != "\u0650"


def test_cut_points_cover_the_text() -> None:
    text = "یک دو سه. چهار\n\nپنج " * 50
    ends = cut_points(text, 30)
    assert ends[-1] == len(text) and ends == sorted(set(ends))


# ---- properties ------------------------------------------------------------------------------------

ALPHABET = st.sampled_from(list("ابپتثجچحخدذرزسشکگلمنوهیءآأؤئ۰۱۲۳") + ["\u200c", "\u064e", "🙂", "👍🏽", "𝄞",
                                                                      " ", " ", "\n", "\n\n", "\t", ".", "؟",
                                                                      "<", ">", "&", '"', "a", "Z", "1"])
TEXT = st.lists(ALPHABET, max_size=60).map("".join) | st.builds(lambda c, n: c * n, ALPHABET, st.integers(1, 90))


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    pieces = []
    for _ in range(draw(st.integers(0, 5))):
        choice = draw(st.integers(0, 3 if depth < 2 else 0))
        if choice == 0:
            pieces.append(html.escape(draw(TEXT), quote=False))
        else:
            tag = ["b", "i", "code", "a"][choice - 1 if choice < 3 else draw(st.integers(2, 3))]
            opening = '<a href="https://e.ir/?q=1&amp;r=&lt;2&gt;">' if tag == "a" else f"<{tag}>"
            pieces.append(opening + draw(documents(depth + 1)) + f"</{tag}>")
    return "".join(pieces)


@settings(max_examples=400, deadline=None)
@given(documents(), st.integers(2, 80))
def test_every_part_fits_is_well_formed_and_together_they_are_the_text(source: str, budget: int) -> None:
    parts = split_html(source, budget)
    for part in parts:
        assert utf16_len(parse_html(part).text) <= budget  # parse_html raises on malformed HTML
    assert "".join(shown(p) for p in parts) == shown(source)


@settings(max_examples=40, deadline=None)
@given(st.lists(documents(), min_size=1, max_size=4), st.integers(1, 120))
def test_fit_numbers_parts_that_fit_the_real_limit(sources: list[str], repeat: int) -> None:
    source = "\n\n".join(sources) * repeat
    parts = fit(OutgoingMessage(source, buttons=BUTTONS))
    for part in parts:
        assert utf16_len(shown(part.html)) <= TEXT_LIMIT
    if len(parts) > 1:
        # Parts that would show only spaces are left out; everything else is there, in order.
        assert "".join(unmarked(parts).split()) == "".join(shown(source).split())
        assert parts[-1].buttons == BUTTONS and all(p.buttons == () for p in parts[:-1])
    else:
        assert parts[0].html == source
