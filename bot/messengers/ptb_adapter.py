"""The messenger port on python-telegram-bot: OutgoingMessage -> Bot API calls, Update -> events.

A plain `telegram.Bot` is used, not `ExtBot`: ExtBot with AIORateLimiter would sleep and retry on
429 by itself, while the delivery engine owns retries and the shared rate budget. A 429 without
retry_after (Bale) gets a default one in the request, since ptb would otherwise raise a NetworkError,
which reads as transient and bypasses the shared pause.
"""

from __future__ import annotations

import datetime as dtm
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LabeledPrice,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram import error as tg
from telegram.request import HTTPXRequest

from bot.messengers.botapi import (
    DEFAULT_RETRY_AFTER,
    NOT_MODIFIED,
    REQUEST_TIMEOUT,
    Keyboard,
    callback_id_of,
    event_from_update_object,
    is_rate_limited,
    is_unreachable_400,
    keyboard_of,
    mask_token,
    outgoing_text,
    with_default_retry_after,
)
from bot.messengers.fit import send_fitted
from handlers.events import Event
from services.messaging import (
    OutgoingMessage,
    Permanent,
    RetryAfter,
    SendError,
    SentMessage,
    Transient,
    Unreachable,
)

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Room for the delivery engine's concurrency; ptb's pool_timeout would otherwise fail sends early.
_POOL_SIZE = 128


class _Request(HTTPXRequest):
    """ptb's request, reading a 429 without retry_after (Bale) as a 429 with the default wait."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code == HTTPStatus.TOO_MANY_REQUESTS:
            payload = with_default_retry_after(payload)
        return code, payload


def build_bot(token: str, api_base: str) -> Bot:
    request = _Request(connection_pool_size=_POOL_SIZE, read_timeout=REQUEST_TIMEOUT,
                           write_timeout=REQUEST_TIMEOUT, connect_timeout=REQUEST_TIMEOUT,
                           pool_timeout=REQUEST_TIMEOUT)
    return Bot(token, base_url=f"{api_base.rstrip('/')}/bot", request=request)


class PtbMessenger:
    """MessageSender on a python-telegram-bot Bot; `close()` releases its HTTP clients.

    `payment_token` is Bale's provider token for invoices (None: this bot sends none).
    """

    def __init__(self, bot: Bot, platform: str, payment_token: str | None = None) -> None:
        self.bot = bot
        self._platform = platform
        self._payment_token = payment_token

    @property
    def platform(self) -> str:
        return self._platform

    async def send(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        """Send the message, in several parts when it is too long for one (bot/messengers/fit.py)."""
        if message.invoice is not None:
            return await self._send_invoice(chat_id, message)
        return await send_fitted(lambda part: self._send_one(chat_id, part), message)

    async def _send_one(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        markup = _markup(message)
        text, parse_mode = outgoing_text(message, self._platform)
        try:
            if message.edit_message_id is not None:
                await self.bot.edit_message_text(
                    text=text, chat_id=chat_id, message_id=message.edit_message_id, parse_mode=parse_mode,
                    reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                    link_preview_options=_NO_PREVIEW)
                return SentMessage(message.edit_message_id)
            sent = await self.bot.send_message(chat_id=chat_id, text=text, parse_mode=parse_mode,
                                               reply_markup=markup, link_preview_options=_NO_PREVIEW)
            return SentMessage(sent.message_id)
        except tg.BadRequest as error:
            if message.edit_message_id is not None and NOT_MODIFIED in error.message.lower():
                return SentMessage(message.edit_message_id)
            raise _send_error(error) from error
        except tg.TelegramError as error:
            raise _send_error(error) from error
        except (TypeError, ValueError, KeyError) as error:
            # The server answered something ptb cannot read: whether it was sent is unknown, so the
            # caller's retry rules apply (at least once) instead of an exception escaping the port.
            raise Transient(f"unreadable answer: {type(error).__name__}") from error

    async def answer_tap(self, callback_id: str, text: str = "") -> None:
        """answerCallbackQuery; errors map like `send` (a stale query is Permanent)."""
        with bot_api_errors():
            await self.bot.answer_callback_query(callback_id, text=text or None)

    async def _send_invoice(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        invoice = message.invoice
        assert invoice is not None
        if not self._payment_token:
            raise Permanent("an invoice needs BALE_PAYMENT_PROVIDER_TOKEN")
        with bot_api_errors():
            sent = await self.bot.send_invoice(
                chat_id=chat_id, title=invoice.title, description=invoice.description, payload=invoice.payload,
                currency=invoice.currency, prices=[LabeledPrice(invoice.label, invoice.amount)],
                provider_token=self._payment_token)
        return SentMessage(sent.message_id)

    async def answer_pre_checkout(self, query_id: str, error_message: str | None) -> None:
        with bot_api_errors():
            await self.bot.answer_pre_checkout_query(query_id, ok=error_message is None, error_message=error_message)

    async def inquire_transaction(self, transaction_id: str) -> dict[str, Any]:
        """ptb has no such method; do_api_request calls any endpoint and returns its raw result."""
        with bot_api_errors():
            result = await self.bot.do_api_request("inquireTransaction", api_kwargs={"transaction_id": transaction_id})
        if not isinstance(result, dict):
            raise Transient(f"unexpected inquireTransaction result: {type(result).__name__}")
        return result

    async def close(self) -> None:
        await self.bot.shutdown()

    def __repr__(self) -> str:
        return f"PtbMessenger({self._platform}, {mask_token(self.bot.token)})"


def _markup(message: OutgoingMessage) -> Markup:
    kind = keyboard_of(message)
    if kind is Keyboard.INLINE:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in message.buttons])
    if kind is Keyboard.REQUEST_CONTACT:
        return ReplyKeyboardMarkup([[KeyboardButton(message.request_contact or "", request_contact=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    if kind is Keyboard.REMOVE:
        return ReplyKeyboardRemove()
    return None


def _retry_seconds(error: tg.RetryAfter) -> float:
    # ptb 22 returns int or timedelta depending on PTB_TIMEDELTA and warns about the int form.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@contextmanager
def bot_api_errors() -> Iterator[None]:
    """python-telegram-bot's errors raised inside become the messenger port's SendError kinds."""
    try:
        yield
    except tg.TelegramError as error:
        raise _send_error(error) from error


def _send_error(error: tg.TelegramError) -> SendError:
    # Order matters: BadRequest and TimedOut are subclasses of NetworkError.
    if isinstance(error, tg.RetryAfter):
        return RetryAfter(_retry_seconds(error), error.message)
    if isinstance(error, tg.Forbidden):
        return Unreachable(error.message)
    if isinstance(error, tg.BadRequest | tg.InvalidToken):
        # Bale answers its flood limit and an unknown chat with a 400 (or a 404, which ptb reads as
        # InvalidToken) and a description.
        if is_rate_limited(error.message):
            return RetryAfter(float(DEFAULT_RETRY_AFTER), error.message)
        if is_unreachable_400(error.message):
            return Unreachable(error.message)
    if isinstance(error, tg.BadRequest):
        return Permanent(error.message)
    if isinstance(error, tg.InvalidToken | tg.Conflict | tg.ChatMigrated | tg.EndPointNotFound):
        return Permanent(error.message)
    # NetworkError (5xx, 502 pages, connection trouble), TimedOut, "Invalid server response".
    return Transient(error.message)


# ---- incoming -------------------------------------------------------------------------------------


def event_from_update(update: Update, platform: str) -> Event | None:
    """The project's event for an update, or None for kinds the conversation does not handle."""
    return event_from_update_object(update, platform)


def callback_id(update: Update) -> str | None:
    """The callback query to answer for this update (every tap must be answered once)."""
    return callback_id_of(update)
