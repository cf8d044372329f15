"""Telegram's validation rules for the fake Bot API: HTML entities, text length, keyboards.

Errors carry Telegram's own wording so client libraries and adapters see what production sends.
The HTML parser follows tdlib's `parse_html` (the code behind the Bot API): tags are matched on a
stack, only the documented tags are accepted, entities are decoded, and everything else in angle
brackets is an error.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64

# tag -> entity type in the resulting Message.entities
_SIMPLE_TAGS = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ATTRIBUTE = re.compile(r"""\s*([a-zA-Z-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")


class ApiError(Exception):
    """A refused request: HTTP status, Telegram's description, optional response parameters."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class ParsedText:
    """A message text as Telegram stores it: plain text plus entities (UTF-16 offsets)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entity_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def parse_html(source: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse Telegram HTML; raise ApiError(400, "can't parse entities: ...") like the Bot API.

    Real Telegram keeps a bare `&` that starts no known entity as a literal character;
    `strict_ampersand` (the default here) refuses it instead, to catch unescaped dynamic text
    before a `<` in the same text does so in production.
    """
    out: list[str] = []
    out_len = 0  # UTF-16 length of out, for entity offsets
    stack: list[tuple[str, str, int, dict[str, Any]]] = []  # tag, entity type, offset, extras
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    while i < n:
        ch = source[i]
        if ch == "&":
            match = _ENTITY.match(source, i)
            decoded = html.unescape(match.group(0)) if match else None
            if match and decoded != match.group(0):
                out.append(decoded or "")
                out_len += utf16_len(decoded or "")
                i = match.end()
                continue
            if strict_ampersand:
                raise _entity_error(
                    f"Character '&' is reserved and must be escaped with the preceding '&amp;' "
                    f"at byte offset {byte_offset(i)}")
            out.append("&")
            out_len += 1
            i += 1
            continue
        if ch != "<":
            out.append(ch)
            out_len += utf16_len(ch)
            i += 1
            continue
        begin = i
        if source.startswith("</", i):
            end = source.find(">", i)
            if end == -1:
                raise _entity_error(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            name = source[i + 2:end].strip().lower()
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            tag, kind, offset, extras = stack.pop()
            if name != tag:
                raise _entity_error(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                    f"expected \"</{tag}>\", found \"</{name}>\"")
            if out_len > offset:
                entities.append({"type": kind, "offset": offset, "length": out_len - offset, **extras})
            i = end + 1
            continue
        # Like tdlib: the name runs to whitespace or '>', and is checked before the tag's end is sought.
        name_match = re.compile(r"[^\s>]*").match(source, i + 1)
        name_end = name_match.end() if name_match else i + 1
        if name_end >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[i + 1:name_end].lower()
        if name not in _SIMPLE_TAGS and name not in ("a", "span", "tg-emoji"):
            raise _entity_error(f"Unsupported start tag \"{name}\" at byte offset {byte_offset(begin)}")
        end = source.find(">", name_end)
        if end == -1:
            raise _entity_error(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        kind, extras = _start_tag(name, _parse_attributes(source[name_end:end]), byte_offset(begin))
        stack.append((name, kind, out_len, extras))
        i = end + 1
        continue
    if stack:
        raise _entity_error(f"Can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities)


def _parse_attributes(text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        if match.group(1):
            value = next((g for g in match.groups()[1:] if g is not None), "")
            attributes[match.group(1).lower()] = html.unescape(value)
    return attributes


def _start_tag(name: str, attributes: dict[str, str], offset: int) -> tuple[str, dict[str, Any]]:
    if name in _SIMPLE_TAGS:
        extras: dict[str, Any] = {}
        if name == "pre" and attributes.get("language"):
            extras["language"] = attributes["language"]
        if name == "blockquote" and "expandable" in attributes:
            return "expandable_blockquote", extras
        return _SIMPLE_TAGS[name], extras
    if name == "a":
        href = attributes.get("href", "")
        if not href:
            # tdlib drops an <a> without href to plain text; keep it as a text-only span.
            return "text", {}
        return "text_link", {"url": href}
    if name == "span":
        if attributes.get("class") != "tg-spoiler":
            raise _entity_error(f"Tag \"span\" must have class \"tg-spoiler\" at byte offset {offset}")
        return "spoiler", {}
    if name == "tg-emoji":
        return "custom_emoji", {"custom_emoji_id": attributes.get("emoji-id", "")}
    raise _entity_error(f"Unsupported start tag \"{name}\" at byte offset {offset}")


def message_text(text: Any, parse_mode: Any, *, strict_ampersand: bool = True) -> ParsedText:
    """Validate sendMessage/editMessageText `text` and return what the chat will show."""
    if text is None or text == "":
        raise bad_request("message text is empty")
    text = str(text)
    if parse_mode is None or parse_mode == "":
        parsed = ParsedText(text)
    elif str(parse_mode).lower() == "html":
        parsed = parse_html(text, strict_ampersand=strict_ampersand)
    else:
        raise bad_request(f"unsupported parse_mode \"{parse_mode}\"")
    # Telegram trims the text; entities that fall outside are dropped.
    stripped = parsed.text.strip()
    if not stripped:
        raise bad_request("message text is empty")
    lead = utf16_len(parsed.text) - utf16_len(parsed.text.lstrip())
    if lead:
        for entity in parsed.entities:
            entity["offset"] = max(0, entity["offset"] - lead)
    parsed.entities = [e for e in parsed.entities if e["type"] != "text" and e["length"] > 0]
    parsed.text = stripped
    if len(parsed.text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return parsed


def json_field(value: Any, name: str) -> Any:
    """Complex fields arrive as JSON strings in form and multipart bodies, as objects in JSON bodies."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as error:
            raise bad_request(f"can't parse {name} JSON object") from error
    return value


def reply_markup(value: Any) -> dict[str, Any] | None:
    """Validate a reply_markup the way Telegram does, returning it normalised."""
    if value is None or value == "":
        return None
    markup = json_field(value, "reply keyboard markup")
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: field \"inline_keyboard\" must be an Array of Arrays")
        for row in rows:
            for button in row:
                _inline_button(button)
        return {"inline_keyboard": rows}
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse keyboard button: field \"keyboard\" must be an Array of Arrays")
        for row in rows:
            for button in row:
                label = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
                if not label:
                    raise bad_request("can't parse keyboard button: Keyboard button must have field \"text\"")
        return markup
    if markup.get("remove_keyboard") is True:
        return markup
    if markup.get("force_reply") is True:
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [key for key in ("callback_data", "url", "switch_inline_query", "login_url", "web_app",
                               "switch_inline_query_current_chat", "copy_text", "pay") if key in button]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")


def inline_callback_data(markup: dict[str, Any] | None) -> set[str]:
    if not markup or "inline_keyboard" not in markup:
        return set()
    return {b["callback_data"] for row in markup["inline_keyboard"] for b in row if "callback_data" in b}
