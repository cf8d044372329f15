"""The messenger port on aiogram: OutgoingMessage -> Bot API calls, Update -> the project's events.

aiogram never retries or sleeps by itself (no request middleware is installed), so a 429 reaches
`send` at once as TelegramRetryAfter and becomes RetryAfter for the delivery engine to honour. A 429
without retry_after (Bale) gets a default one in the session, since aiogram would otherwise raise a
bare TelegramAPIError, which reads as permanent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    RestartingTelegram,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LabeledPrice,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

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


# aiogram reads every answer as `Response[T]`; pydantic caches those classes weakly, so each cyclic
# garbage collection freed them and the next call rebuilt one (a pydantic schema build, ~7 % of the CPU
# of an answer in bench/conversation.py). Kept here for the life of the process.
_RESPONSE_TYPES: dict[Any, Any] = {}


class _Session(AiohttpSession):
    """aiogram's session, reading a 429 without retry_after (Bale) as a 429 with the default wait."""

    def check_response(self, bot: Bot, method: Any, status_code: int, content: str) -> Any:
        returning = method.__returning__
        if returning not in _RESPONSE_TYPES:
            _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]
        if status_code == HTTPStatus.TOO_MANY_REQUESTS:
            content = with_default_retry_after(content.encode()).decode()
        return super().check_response(bot, method, status_code, content)


def build_bot(token: str, api_base: str) -> Bot:
    session = _Session(api=TelegramAPIServer.from_base(api_base), timeout=REQUEST_TIMEOUT)
    return Bot(token, session=session)


class InquireTransaction(TelegramMethod[dict[str, Any]]):
    """Bale's inquireTransaction, which aiogram does not know: the Transaction object, raw."""

    __returning__ = dict[str, Any]
    __api_method__ = "inquireTransaction"

    transaction_id: str


class AiogramMessenger:
    """MessageSender on an aiogram Bot; `close()` releases its HTTP session.

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
                    text=text, chat_id=chat_id, message_id=message.edit_message_id,
                    parse_mode=parse_mode, reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                    link_preview_options=_NO_PREVIEW)
                return SentMessage(message.edit_message_id)
            sent = await self.bot.send_message(
                chat_id=chat_id, text=text, parse_mode=parse_mode, reply_markup=markup,
                link_preview_options=_NO_PREVIEW)
            return SentMessage(sent.message_id)
        except TelegramBadRequest as error:
            if message.edit_message_id is not None and NOT_MODIFIED in error.message:
                return SentMessage(message.edit_message_id)
            raise _send_error(error) from error
        except (TelegramAPIError, ClientDecodeError) as error:
            raise _send_error(error) from error

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
                currency=invoice.currency, prices=[LabeledPrice(label=invoice.label, amount=invoice.amount)],
                provider_token=self._payment_token)
        return SentMessage(sent.message_id)

    async def answer_pre_checkout(self, query_id: str, error_message: str | None) -> None:
        with bot_api_errors():
            await self.bot.answer_pre_checkout_query(query_id, ok=error_message is None,
                                                     error_message=error_message)

    async def inquire_transaction(self, transaction_id: str) -> dict[str, Any]:
        with bot_api_errors():
            result = await self.bot(InquireTransaction(transaction_id=transaction_id))
        return dict(result)

    async def close(self) -> None:
        await self.bot.session.close()

    def __repr__(self) -> str:
        return f"AiogramMessenger({self._platform}, {mask_token(self.bot.token)})"


def _markup(message: OutgoingMessage) -> Markup:
    kind = keyboard_of(message)
    if kind is Keyboard.INLINE:
        return InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text=b.label, callback_data=b.data) for b in row] for row in message.buttons])
    if kind is Keyboard.REQUEST_CONTACT:
        return ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=message.request_contact or "", request_contact=True)]],
            resize_keyboard=True, one_time_keyboard=True)
    if kind is Keyboard.REMOVE:
        return ReplyKeyboardRemove()
    return None


@contextmanager
def bot_api_errors() -> Iterator[None]:
    """aiogram's errors raised inside become the messenger port's SendError kinds."""
    try:
        yield
    except (TelegramAPIError, ClientDecodeError) as error:
        raise _send_error(error) from error


def _send_error(error: TelegramAPIError | ClientDecodeError) -> SendError:
    if isinstance(error, TelegramRetryAfter):
        return RetryAfter(float(error.retry_after), error.message)
    if isinstance(error, TelegramForbiddenError):
        return Unreachable(error.message)
    if isinstance(error, TelegramBadRequest | TelegramNotFound):
        # Bale answers its flood limit and an unknown chat with a 400 (or a 404) and a description.
        if is_rate_limited(error.message):
            return RetryAfter(float(DEFAULT_RETRY_AFTER), error.message)
        return Unreachable(error.message) if is_unreachable_400(error.message) else Permanent(error.message)
    if isinstance(error, TelegramServerError | RestartingTelegram | TelegramNetworkError):
        return Transient(error.message)
    if isinstance(error, ClientDecodeError):
        # Not JSON: a proxy in front of the Bot API answered (e.g. nginx's 502 page).
        return Transient(f"undecodable response: {error.message}")
    # 401, 404, 409, 413 and the like: configuration or request errors no retry can fix.
    return Permanent(error.message)


# ---- incoming -------------------------------------------------------------------------------------


def event_from_update(update: Update, platform: str) -> Event | None:
    """The project's event for an update, or None for kinds the conversation does not handle."""
    return event_from_update_object(update, platform)


def callback_id(update: Update) -> str | None:
    """The callback query to answer for this update (every tap must be answered once)."""
    return callback_id_of(update)
