"""The Bale renderer: Telegram HTML in, a text for Bale's parse_mode-less sendMessage out."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from bot.messengers.bale_text import JOINER, MARKUP_CHARS, fence, to_bale, visible
from bot.messengers.console import html_to_text
from handlers import texts

# Any text a citizen, a clerk or a ruling could hold (the joiner itself is eblagh's, not content's).
content = st.text(alphabet=st.characters(exclude_characters=JOINER, exclude_categories=("Cs",)), max_size=40)
# Text rich in what could be read as markup, Persian letters and spaces.
markupish = st.text(alphabet=st.sampled_from(sorted(MARKUP_CHARS) + list(" \nابپ۱۲x<>&;#")), max_size=30)
pieces = st.lists(st.tuples(st.booleans(), st.one_of(content, markupish)), max_size=8)

TAG_OR_ENTITY = re.compile(r"<[A-Za-z/][^>]*>|&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


def build(parts: list[tuple[bool, str]]) -> str:
    """HTML as the conversation writes it: every dynamic piece escaped, some of them in <b>."""
    return "".join(f"<b>{html.escape(t, quote=False)}</b>" if bold else html.escape(t, quote=False)
                   for bold, t in parts)


def markup_positions_are_controlled(out: str) -> bool:
    """Every markup character is a controlled bold marker or fenced by joiners on both sides."""
    for i, c in enumerate(out):
        if c not in MARKUP_CHARS:
            continue
        fenced = 0 < i < len(out) - 1 and out[i - 1] == JOINER and out[i + 1] == JOINER
        if not (fenced or c == "*"):
            return False
    return True


@given(pieces)
def test_what_is_read_is_exactly_what_was_written(parts: list[tuple[bool, str]]) -> None:
    assert visible(to_bale(build(parts))) == "".join(t for _, t in parts)


@given(pieces)
def test_dynamic_text_can_never_become_markup(parts: list[tuple[bool, str]]) -> None:
    out = to_bale(build(parts))
    assert markup_positions_are_controlled(out)
    # The only unfenced `*` are bold markers, in pairs around one safe, space-delimited word group.
    bare = [m.start() for m in re.finditer(r"(?<!\u2060)\*", out)]
    assert len(bare) % 2 == 0
    for start, end in zip(bare[::2], bare[1::2], strict=True):
        inner = out[start + 1:end]
        assert inner and not inner[0].isspace() and not inner[-1].isspace() and "\n" not in inner
        assert not any(c in MARKUP_CHARS or c == JOINER for c in inner)
        assert start == 0 or out[start - 1].isspace()
        assert end == len(out) - 1 or out[end + 1].isspace()


@given(pieces)
def test_no_html_reaches_bale_unless_the_content_itself_holds_it(parts: list[tuple[bool, str]]) -> None:
    out = to_bale(build(parts))
    if not any("<" in t or "&" in t for _, t in parts):
        assert not TAG_OR_ENTITY.search(out)


@given(pieces)
def test_reads_like_the_terminal_chat(parts: list[tuple[bool, str]]) -> None:
    source = build(parts)
    assert visible(to_bale(source)) == html_to_text(source)


def test_bold_where_it_is_safe_and_plain_otherwise() -> None:
    assert to_bale("سلام، به <b>ابلاغ</b> خوش آمدید") == "سلام، به *ابلاغ* خوش آمدید"
    assert to_bale("مبلغ جریمه: <b>۱۲۵٬۰۰۰٬۰۰۰ تومان</b>\n") == "مبلغ جریمه: *۱۲۵٬۰۰۰٬۰۰۰ تومان*\n"
    assert to_bale("پرونده<b>۱۴۰۳</b>:") == "پرونده۱۴۰۳:"  # no space around: plain
    assert to_bale("<b> فاصله</b>") == " فاصله"
    assert to_bale("<b>دو\nخط</b>") == "دو\nخط"
    assert to_bale("<b>a_b</b> c") == f"a{JOINER}_{JOINER}b c"  # a markup character inside: plain


def test_entities_links_and_other_tags_become_plain_text() -> None:
    assert to_bale("&lt;b&gt; &amp; &quot;") == '<b> & "'
    assert to_bale('متن <a href="https://e.ir/x">رأی</a>') == "متن رأی (https://e.ir/x)"
    assert to_bale('<a href="https://e.ir">https://e.ir</a>') == "https://e.ir"
    assert to_bale("<i>(ادامه)</i> <code>R-1</code>") == "(ادامه) R-1"


def test_a_name_with_markup_characters_shows_literally() -> None:
    name = "*مریم* _رضایی_ `x` [پیوند](https://e.ir)"
    out = to_bale(f"سلام، {html.escape(name)}")
    assert visible(out) == f"سلام، {name}"
    assert out == f"سلام، {fence(name)}"
    assert markup_positions_are_controlled(out)


def test_every_conversation_text_renders_without_html() -> None:
    for name in dir(texts):
        value = getattr(texts, name)
        if isinstance(value, str) and "<" in value:
            out = to_bale(value)
            assert not TAG_OR_ENTITY.search(out), name
            assert visible(out) == html_to_text(value), name
