"""What the two Bot API adapters (aiogram, python-telegram-bot) share: the port they offer beyond
`MessageSender`, command parsing, the update kinds they convert, keyboard choice, the text and
parse_mode per platform, error markers, token masking.
"""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Any, Protocol

from bot.messengers.bale_text import to_bale
from handlers.events import (
    ButtonTapped,
    Chat,
    CommandReceived,
    ContactShared,
    Event,
    PaymentSucceeded,
    PreCheckout,
    TextReceived,
)
from services.messaging import ChatKind, MessageSender, OutgoingMessage, Permanent

# The update kinds event_from_update converts; Telegram and Bale need not send anything else.
ALLOWED_UPDATES: tuple[str, ...] = ("message", "callback_query")
# Asked for as well when fines can be paid in the chat (successful_payment comes inside a message).
PAYMENT_UPDATES: tuple[str, ...] = ("pre_checkout_query",)


def allowed_updates(payments: bool) -> tuple[str, ...]:
    return ALLOWED_UPDATES + PAYMENT_UPDATES if payments else ALLOWED_UPDATES


# Telegram's command syntax: 1-32 Latin letters, digits or underscores, optionally @botname.
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?", re.DOTALL)

# The request timeout for one call; the delivery engine decides what happens after a timeout.
REQUEST_TIMEOUT = 20.0
# Edits that change nothing come back as this 400, which is a success for the sender.
NOT_MODIFIED = "message is not modified"
# A 400 that means the chat itself is out of reach (never started the bot, account deleted).
# Bale says "no such group or user" (python-bale-bot's HTTPClientError.USER_OR_CHAT_NOT_FOUND,
# github.com/python-bale-bot/python-bale-bot bale/error.py).
UNREACHABLE_400 = ("chat not found", "user not found", "peer_id_invalid", "no such group or user")
# Bale's flood answers that carry no retry_after: a 400 with one of these descriptions (python-bale-bot
# HTTPClientError.RATE_LIMIT / LOCAL_RATE_LIMIT, bale/error.py), or a bare 429.
RATE_LIMITED = ("bot limit exceed", "local_rate_limited")
# Seconds to wait on a rate limit that names no wait: python-bale-bot's own retry loop waits 2 s,
# then 4 and 6 (bale/request/http.py, `asyncio.sleep(tries * 2)`); the delivery engine's own
# backoff takes over if the limit persists.
DEFAULT_RETRY_AFTER = 2
PLATFORM_BALE = "bale"


class BotApiMessenger(MessageSender, Protocol):
    """A MessageSender on a Bot API transport; taps are answered through it, and it owns a session."""

    async def answer_tap(self, callback_id: str, text: str = "") -> None: ...

    async def answer_pre_checkout(self, query_id: str, error_message: str | None) -> None:
        """answerPreCheckoutQuery: ok without an error message, refused with one."""
        ...

    async def inquire_transaction(self, transaction_id: str) -> dict[str, Any]:
        """Bale's inquireTransaction: the Transaction object as sent (id, status, userID, amount, ...)."""
        ...

    async def close(self) -> None: ...


def parse_command(text: str) -> tuple[str, str] | None:
    """`/Name@bot args` -> ("name", "args"); None when the text is not a command."""
    match = _COMMAND.fullmatch(text.strip())
    if match is None:
        return None
    return match.group(1).lower(), (match.group(3) or "").strip()


class Keyboard(Enum):
    NONE = "none"
    INLINE = "inline"
    REQUEST_CONTACT = "request_contact"
    REMOVE = "remove"


def keyboard_of(message: OutgoingMessage) -> Keyboard:
    """The one reply_markup a message can carry; Permanent for combinations Telegram cannot send."""
    kinds = [kind for kind, wanted in ((Keyboard.INLINE, bool(message.buttons)),
                                       (Keyboard.REQUEST_CONTACT, message.request_contact is not None),
                                       (Keyboard.REMOVE, message.remove_keyboard)) if wanted]
    if len(kinds) > 1:
        raise Permanent(f"a message carries one keyboard, not {[k.value for k in kinds]}")
    kind = kinds[0] if kinds else Keyboard.NONE
    if message.edit_message_id is not None and kind not in (Keyboard.NONE, Keyboard.INLINE):
        raise Permanent("an edited message can carry inline buttons only")
    return kind


def is_unreachable_400(description: str) -> bool:
    lowered = description.lower()
    return any(marker in lowered for marker in UNREACHABLE_400)


def is_rate_limited(description: str) -> bool:
    """Bale's 400 flood answers (Telegram's 429 carries retry_after and is read by the libraries)."""
    lowered = description.lower()
    return any(marker in lowered for marker in RATE_LIMITED)


def with_default_retry_after(body: bytes) -> bytes:
    """A 429 body with `parameters.retry_after` filled in when the server left it out (Bale), so that
    both libraries raise their RetryAfter instead of a generic error."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if not isinstance(payload, dict):
        return body
    found = payload.get("parameters")
    parameters: dict[str, Any] = found if isinstance(found, dict) else {}
    if parameters.get("retry_after"):
        return body
    payload["parameters"] = {**parameters, "retry_after": DEFAULT_RETRY_AFTER}
    payload.setdefault("description", "Too Many Requests")
    return json.dumps(payload).encode()


def outgoing_text(message: OutgoingMessage, platform: str) -> tuple[str, str | None]:
    """The text and parse_mode to send: Telegram gets the HTML; Bale, which has no parse_mode, gets
    it rendered by bale_text (the one place a message's text is turned into a platform's text)."""
    if platform == PLATFORM_BALE:
        return to_bale(message.html), None
    return message.html, "HTML"


def mask_token(token: str) -> str:
    """`123456:secret` -> `123456:***`: the bot id helps debugging, the secret never reaches a log."""
    bot_id, _, secret = token.partition(":")
    return f"{bot_id}:***" if secret else "***"


# ---- incoming: aiogram's and ptb's Update objects carry the same Bot API field names ----------------


def event_from_update_object(update: Any, platform: str) -> Event | None:
    """The project's event for a parsed update of either library, or None for kinds not handled."""
    if update.message is not None:
        return _event_from_message(update.message, platform)
    checkout = getattr(update, "pre_checkout_query", None)
    if checkout is not None and checkout.from_user is not None:
        user_id = checkout.from_user.id
        return PreCheckout(chat=Chat(platform=platform, chat_id=user_id, user_id=user_id), query_id=str(checkout.id),
                           payload=checkout.invoice_payload or "", currency=checkout.currency or "",
                           total_amount=int(checkout.total_amount))
    query = update.callback_query
    if query is not None and query.data is not None and query.message is not None:
        chat = _chat(query.message.chat, query.from_user.id, platform)
        return ButtonTapped(chat=chat, data=query.data, message_id=query.message.message_id)
    return None


def callback_id_of(update: Any) -> str | None:
    """The callback query to answer for this update (every tap must be answered once)."""
    return str(update.callback_query.id) if update.callback_query is not None else None


def _chat(chat: Any, user_id: int, platform: str) -> Chat:
    """The event's chat; `chat.type` (a str in aiogram, an enum in ptb) says whether it is private."""
    return Chat(platform=platform, chat_id=chat.id, user_id=user_id, kind=ChatKind.of(chat.type))
def _forwarded(message: Any) -> bool:
    """Any trace of a forward (Bot API 7 forward_origin, or the older forward_from / forward_date)."""
    return any(getattr(message, name, None) is not None
               for name in ("forward_origin", "forward_from", "forward_from_chat", "forward_date",
                            "forward_sender_name"))


def _event_from_message(message: Any, platform: str) -> Event | None:
    if message.from_user is None:
        return None
    chat = _chat(message.chat, message.from_user.id, platform)
    paid = getattr(message, "successful_payment", None)
    if paid is not None:
        return _payment_event(chat, paid, message.message_id)
    if message.contact is not None:
        # Bale may send phone_number as a number (python-bale-bot types it `int`).
        return ContactShared(chat=chat, phone=str(message.contact.phone_number),
                             contact_user_id=message.contact.user_id, message_id=message.message_id,
                             forwarded=_forwarded(message), private=message.chat.type == "private")
    if message.text is None:
        return None
    command = parse_command(message.text)
    if command is not None:
        return CommandReceived(chat=chat, name=command[0], args=command[1], message_id=message.message_id)
    reply_to = message.reply_to_message.message_id if message.reply_to_message is not None else None
    return TextReceived(chat=chat, text=message.text, message_id=message.message_id, reply_to_message_id=reply_to)


def _payment_event(chat: Chat, paid: Any, message_id: int) -> PaymentSucceeded:
    # Bale's inquireTransaction takes what Telegram calls telegram_payment_charge_id (Balethon's
    # SuccessfulPayment.inquire passes exactly that); the provider's id serves as the tracking code.
    # Both names unconfirmed against live Bale: see docs/bale.md "Payments".
    transaction_id = str(paid.telegram_payment_charge_id or paid.provider_payment_charge_id or "")
    tracking_code = str(paid.provider_payment_charge_id or transaction_id)
    return PaymentSucceeded(chat=chat, payload=paid.invoice_payload or "", currency=paid.currency or "",
                            total_amount=int(paid.total_amount), transaction_id=transaction_id,
                            tracking_code=tracking_code, message_id=message_id)
