"""Telegram HTML (what the conversation writes) -> the text Bale shows, for a sendMessage without parse_mode.

Bale's sendMessage takes no `parse_mode` (Balethon's `send_message(chat_id, text, reply_markup,
reply_to_message_id)`, github.com/Balethon/Balethon balethon/client/messages/send_message.py) and
renders a Markdown-like syntax in every text ("Bale formats all text as Markdown (bold, italic)",
the bale-mcp tool notes, glama.ai/mcp/servers/sepehr071/bale-mcp). So HTML tags would show raw and
entities like `&lt;` unescaped never. This module turns the HTML into plain text:

- entities are decoded, tags dropped; a link shows as `label (address)`;
- `<b>` becomes Bale's `*bold*` only where it is safe: the bold part is one line with no markup
  character in it, starts and ends with a visible character, and has whitespace (or the text's
  edge) on both sides, since Bale's bold needs spaces around it (not confirmed by a published
  source: check on a real Bale bot, docs/bale.md). Anything else stays plain;
- a markup character (`* _ ` [ ] ~ |`) that is part of the text (a name, a ruling, an amount) is
  fenced with WORD JOINERs (U+2060, invisible, not whitespace) on both sides, so it can never open or
  close Bale markup under that rule, yet reads exactly as written.

Pure: no I/O, no state; `visible()` gives what a reader sees, for tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

MARKUP_CHARS = frozenset("*_`[]~|")
JOINER = "\u2060"  # WORD JOINER: zero width, not whitespace, no line break
BOLD = "*"


@dataclass
class _Run:
    text: str
    bold: bool


class _Runs(HTMLParser):
    """Telegram HTML -> runs of text, each bold or not (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[_Run] = []
        self._bold = 0
        self._href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("b", "strong"):
            self._bold += 1
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))
        elif tag == "br":
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("b", "strong"):
            self._bold = max(0, self._bold - 1)
        elif tag == "a" and self._href:
            href = self._href.pop()
            label = self._label_since_link()
            if href and href != label:
                self._add(f" ({href})", bold=False)

    def handle_data(self, data: str) -> None:
        self._add(data)
        if self._href:
            self._link_text.append(data)

    def _add(self, text: str, *, bold: bool | None = None) -> None:
        is_bold = self._bold > 0 if bold is None else bold
        if self.runs and self.runs[-1].bold == is_bold:
            self.runs[-1].text += text
        else:
            self.runs.append(_Run(text, is_bold))

    # The label of the link being closed, to skip `(address)` when the label is the address.
    _link_text: list[str]

    def reset(self) -> None:
        super().reset()
        self._link_text = []

    def _label_since_link(self) -> str:
        label, self._link_text = "".join(self._link_text), []
        return label


def to_bale(html_text: str) -> str:
    """The text to send to Bale (no parse_mode) for a Telegram-HTML text."""
    parser = _Runs()
    parser.feed(html_text)
    parser.close()
    runs = [run for run in parser.runs if run.text]
    out: list[str] = []
    for index, run in enumerate(runs):
        before = runs[index - 1].text[-1] if index > 0 else ""
        after = runs[index + 1].text[0] if index + 1 < len(runs) else ""
        if run.bold and _bold_is_safe(run.text, before, after):
            out.append(f"{BOLD}{run.text}{BOLD}")
        else:
            out.append(fence(run.text))
    return "".join(out)


def fence(text: str) -> str:
    """Plain text whose markup characters can never be read as markup."""
    return "".join(f"{JOINER}{c}{JOINER}" if c in MARKUP_CHARS else c for c in text)


def _bold_is_safe(text: str, before: str, after: str) -> bool:
    return (not any(c in MARKUP_CHARS for c in text) and "\n" not in text
            and not text[0].isspace() and not text[-1].isspace()
            and (before == "" or before.isspace()) and (after == "" or after.isspace()))


def visible(bale_text: str) -> str:
    """What a reader sees of a Bale text: controlled bold markers dropped, joiners invisible."""
    out: list[str] = []
    i = 0
    while i < len(bale_text):
        c = bale_text[i]
        if c == JOINER:
            i += 1
            continue
        if c == BOLD and (i == 0 or bale_text[i - 1] != JOINER):
            i += 1  # an unfenced `*` is a bold marker this module wrote
            continue
        out.append(c)
        i += 1
    return "".join(out)
