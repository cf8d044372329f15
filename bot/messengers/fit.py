"""Every message fits the messenger: one too long for a single message becomes several, in order.

`fit(message)` is pure: a message whose visible text fits is returned as it is; a longer one is cut
at a paragraph, else a sentence or line, else a word, else a character boundary (never inside a
tag, an entity, a surrogate pair or before a combining mark), each part's tags closed and reopened
in the next, each part numbered «(۱/۳)», the keyboard on the last part, an edit's first part still
the edit. Length is measured as Telegram does: the text after entity parsing, in UTF-16 code units
(Bale follows Telegram's limit).

`send_fitted` is what every adapter's `send` calls: it sends the parts in order and returns all
their message ids; a failure part-way says which parts did arrive (`SendError.sent_message_ids`).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from handlers.texts import PART_MARKER
from nlp.digits import to_persian_digits
from services.messaging import TEXT_LIMIT, OutgoingMessage, SendError, SentMessage

_ENTITY = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_SENTENCE = re.compile(r"[.!?؟…。]\s|\n")
_SPACE = re.compile(r"\s")
# Characters that belong to the one before them: a cut must not fall just before one.
_JOINING = frozenset({"\u200d", "\ufe0e", "\ufe0f", "\u20e3"})
_ZWJ = "\u200d"

Stack = tuple[tuple[str, str], ...]  # the open tags around a character: (name, opening tag as written)


@dataclass(frozen=True)
class Visible:
    """One message's HTML as Telegram reads it: each shown character and the tags around it."""

    chars: str
    stacks: tuple[Stack, ...]


class MalformedHtml(ValueError):
    pass


def utf16_len(text: str) -> int:
    """Telegram's length: characters beyond the BMP count twice (a lone surrogate once)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def parse(source: str) -> Visible:
    """Telegram HTML -> the visible characters with their tag stacks; MalformedHtml when unbalanced."""
    chars: list[str] = []
    stacks: list[Stack] = []
    stack: Stack = ()
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "<":
            end = source.find(">", i)
            if end == -1:
                raise MalformedHtml(f"unclosed tag at {i}")
            inside = source[i + 1:end]
            if inside.startswith("/"):
                name = inside[1:].strip().lower()
                if not stack or stack[-1][0] != name:
                    raise MalformedHtml(f"unexpected </{name}> at {i}")
                stack = stack[:-1]
            else:
                name = (inside.split(maxsplit=1) or [""])[0].lower()
                if not name:
                    raise MalformedHtml(f"empty tag at {i}")
                stack = (*stack, (name, source[i:end + 1]))
            i = end + 1
            continue
        if ch == "&":
            match = _ENTITY.match(source, i)
            decoded = html.unescape(match.group(0)) if match else None
            if match and decoded and decoded != match.group(0):
                chars.extend(decoded)
                stacks.extend([stack] * len(decoded))
                i = match.end()
                continue
        chars.append(ch)
        stacks.append(stack)
        i += 1
    if stack:
        raise MalformedHtml(f"<{stack[-1][0]}> is never closed")
    return Visible("".join(chars), tuple(stacks))


def _render(visible: Visible, start: int, end: int) -> str:
    """The HTML of characters [start, end): the same tags around each, balanced within the part."""
    out: list[str] = []
    open_: Stack = ()
    for index in range(start, end):
        wanted = visible.stacks[index]
        if wanted != open_:
            common = 0
            while common < min(len(open_), len(wanted)) and open_[common] == wanted[common]:
                common += 1
            out.extend(f"</{name}>" for name, _ in reversed(open_[common:]))
            out.extend(tag for _, tag in wanted[common:])
            open_ = wanted
        out.append(html.escape(visible.chars[index], quote=False))
    out.extend(f"</{name}>" for name, _ in reversed(open_))
    return "".join(out)


def _last_end(pattern: re.Pattern[str], text: str, low: int, high: int) -> int | None:
    """The end of the last match of `pattern` ending within (low, high], if any."""
    best = None
    for match in pattern.finditer(text, max(0, low - 2), high):
        if low < match.end() <= high:
            best = match.end()
    return best


def _hard_cut(text: str, start: int, high: int) -> int:
    """Cut before `high`, stepping back so a combining mark or joined emoji stays whole."""
    cut = high
    while cut > start + 1 and (text[cut] in _JOINING or text[cut - 1] == _ZWJ
                               or unicodedata.category(text[cut]) in ("Mn", "Me")
                               or 0x1F3FB <= ord(text[cut]) <= 0x1F3FF):
        cut -= 1
    return cut


def cut_points(text: str, budget: int) -> list[int]:
    """Where to end each part of `text` so that each weighs at most `budget` UTF-16 units."""
    if budget < 2:
        raise ValueError("a part must hold at least one character")
    ends: list[int] = []
    start, n = 0, len(text)
    while True:
        # The furthest end that fits, found by walking (weights are 1 or 2).
        weight, high = 0, start
        while high < n and weight + (2 if ord(text[high]) > 0xFFFF else 1) <= budget:
            weight += 2 if ord(text[high]) > 0xFFFF else 1
            high += 1
        if high >= n:
            ends.append(n)
            return ends
        half = start + (high - start) // 2
        cut = (_last_end(_PARAGRAPH, text, half, high) or _last_end(_SENTENCE, text, half, high)
               or _last_end(_SPACE, text, start, high) or _hard_cut(text, start, high))
        ends.append(cut)
        start = cut


def split_html(source: str, budget: int) -> list[str]:
    """Well-formed HTML parts whose visible texts, joined, are the source's; each within `budget`."""
    visible = parse(source)
    return [_render(visible, start, end) for start, end in _spans(visible, budget)] or [source]


def _spans(visible: Visible, budget: int) -> list[tuple[int, int]]:
    if utf16_len(visible.chars) <= budget:
        return [(0, len(visible.chars))]
    ends = cut_points(visible.chars, budget)
    return list(zip([0, *ends[:-1]], ends, strict=True))


def marker(part: int, parts: int) -> str:
    return PART_MARKER.format(part=to_persian_digits(str(part)), parts=to_persian_digits(str(parts)))


def fit(message: OutgoingMessage, limit: int = TEXT_LIMIT) -> list[OutgoingMessage]:
    """The message as one or more messages that each fit `limit`; see the module's docstring."""
    try:
        visible = parse(message.html)
    except MalformedHtml:
        # Not ours to repair; sent as it is, the server's refusal is reported like any other.
        return [message]
    if utf16_len(visible.chars) <= limit:
        return [message]
    # The markers take room in every part; their size depends on how many parts there are.
    reserved = utf16_len(marker(2, 2))
    while True:
        # A part of only spaces would show nothing (Telegram trims each text), so none is sent.
        spans = [(start, end) for start, end in _spans(visible, limit - reserved)
                 if visible.chars[start:end].strip()]
        if not spans:
            return [message]
        needed = utf16_len(marker(len(spans), len(spans)))
        if needed <= reserved:
            break
        reserved = needed
    total = len(spans)
    fitted: list[OutgoingMessage] = []
    for number, (start, end) in enumerate(spans, start=1):
        last = number == total
        fitted.append(replace(
            message, html=html.escape(marker(number, total), quote=False) + _render(visible, start, end),
            buttons=message.buttons if last else (),
            request_contact=message.request_contact if last else None,
            remove_keyboard=message.remove_keyboard if last else False,
            edit_message_id=message.edit_message_id if number == 1 else None))
    return fitted


async def send_fitted(send_one: Callable[[OutgoingMessage], Awaitable[SentMessage]],
                      message: OutgoingMessage) -> SentMessage:
    """Send each part of the fitted message in order; all their ids, the first as `message_id`."""
    ids: list[int] = []
    for part in fit(message):
        try:
            sent = await send_one(part)
        except SendError as error:
            error.sent_message_ids = tuple(ids)
            raise
        ids.append(sent.message_id)
    return SentMessage(ids[0], tuple(ids))
