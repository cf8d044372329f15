"""Bale (بله) mode of the fake Bot API: where Bale's Bot API at https://tapi.bale.ai differs from
Telegram's, as far as Bale's documentation and its client libraries tell. `FakeBotAPI(platform="bale")`
calls these from small hooks in server.py; each behaviour cites its source, and says so when no
source confirms it.

Sources (public):
- [balethon] github.com/Balethon/Balethon: balethon/client/messages/send_message.py
  (`send_message(chat_id, text, reply_markup, reply_to_message_id)`: no parse_mode),
  balethon/client/updates/get_updates.py (`get_updates(offset, limit)`),
  balethon/client/updates/set_webhook.py (`set_webhook(url)`: no secret_token).
- [pbb] github.com/python-bale-bot/python-bale-bot: bale/error.py (HTTPClientError:
  "no such group or user", "bot limit exceed", "local_rate_limited"), bale/request/http.py (a 429,
  or a 400 with one of the two limit descriptions, is retried after `tries * 2` seconds: no
  retry_after is read), bale/attachments/_contact.py (`phone_number: int`, `user_id` optional),
  bale/_callbackquery.py (id, from, message, data: no chat_instance); neither it nor Balethon has
  setMyCommands.
- [sdk] bale-bot-sdk.efive.net/docs/objects/callbackquery (id, from, message, data) and
  /docs/objects/contact (user_id "Optional").
- [mcp] glama.ai/mcp/servers/sepehr071/bale-mcp, bot_send_message: "Bale formats all text as
  Markdown (bold, italic)".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tests.botapi.rules import TEXT_LIMIT, ApiError, ParsedText, bad_request

PLATFORM = "bale"

# [pbb], [balethon]: no client offers these. What Bale answers for them is not documented; the
# fake answers like the Bot API does for any unknown method (404 Not Found). Unconfirmed.
UNKNOWN_METHODS = frozenset({"setmycommands", "getmycommands", "deletemycommands"})
# [pbb] HTTPClientError.USER_OR_CHAT_NOT_FOUND. The status with it is unconfirmed; 400 here.
CHAT_NOT_FOUND = "no such group or user"


class RateLimitForm(StrEnum):
    """How the fake refuses a send over its Limits on Bale ([pbb] http.py handles all three)."""

    BARE_429 = "429"  # 429 without parameters.retry_after
    BOT_LIMIT = "bot limit exceed"  # 400, HTTPClientError.RATE_LIMIT
    LOCAL = "local_rate_limited"  # 400, HTTPClientError.LOCAL_RATE_LIMIT


@dataclass
class BaleOptions:
    rate_limit: RateLimitForm = RateLimitForm.BARE_429
    # [balethon] get_updates(offset, limit): `timeout` (long polling) and `allowed_updates` are not
    # documented, so the fake ignores both and answers at once. Whether Bale long-polls: unconfirmed.
    long_poll: bool = False


def message_text(text: Any) -> ParsedText:
    """[balethon], [mcp]: no parse_mode; the text is kept exactly as sent (Bale renders its own
    Markdown-like syntax in the client, which the fake does not imitate)."""
    if text is None or text == "" or not str(text).strip():
        raise bad_request("message text is empty")
    if len(str(text)) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return ParsedText(str(text))


def rate_limited(form: RateLimitForm) -> ApiError:
    """[pbb]: Bale's flood answers carry no retry_after."""
    if form is RateLimitForm.BARE_429:
        return ApiError(429, "Too Many Requests")
    return ApiError(400, form.value)


def chat_not_found() -> ApiError:
    return ApiError(400, CHAT_NOT_FOUND)


def unknown_method() -> ApiError:
    return ApiError(404, "Not Found")


def callback_query(payload: dict[str, Any]) -> dict[str, Any]:
    """[pbb], [sdk]: id, from, message, data; no chat_instance."""
    return {k: v for k, v in payload.items() if k != "chat_instance"}


def forward_fields(sender: dict[str, Any], date: int) -> dict[str, Any]:
    """A forwarded message as Bale's Message type shows it (forward_from, forward_date: e.g. the
    bale-bot-ts Message interface), not Telegram's newer forward_origin."""
    return {"forward_from": sender, "forward_date": date}


def getupdates_params(params: dict[str, Any], options: BaleOptions) -> dict[str, Any]:
    """Only offset and limit count unless long polling is switched on."""
    if options.long_poll:
        return params
    return {k: v for k, v in params.items() if k in ("offset", "limit")}
