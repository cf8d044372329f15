"""A loopback fake of the Telegram Bot API (also Bale's), speaking the real HTTP protocol.

Real aiogram and python-telegram-bot clients talk to it over HTTP on 127.0.0.1; tests play the
citizens through its control side and inspect what the bot sent:

    async with FakeBotAPI() as api:
        bot = Bot(api.token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        api.send_text(1001, "سلام")            # a citizen writes
        ...                                    # the bot polls and answers
        [reply] = await api.wait_for_messages(1001, 1)
        assert reply.text == "..."
        api.assert_nothing_refused()

`FakeBotAPI(platform="bale")` behaves like Bale's Bot API where it differs (tests/botapi/bale.py).

Run standalone for benchmarks in other processes: `python -m tests.botapi [--port N]
[--global-rate R] [--chat-rate R] [--retry-after S] [--fault-ratio F] [--platform bale]` prints one JSON line
`{"base_url": ..., "token": ...}`; drive it through `/control/...` (see control.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from tests.botapi import bale, control
from tests.botapi.limits import FaultInjector, Faults, FloodControl, Limits
from tests.botapi.params import (
    as_bool,
    as_int,
    chat_of,
    error_response,
    kind_of,
    preview_disabled,
    read_params,
    reply_target,
    scope_key,
    source_html,
)
from tests.botapi.payments import FakePayments
from tests.botapi.records import CallbackQuery, ChatMessage, Edit, Refused
from tests.botapi.rules import (
    ApiError,
    ParsedText,
    bad_request,
    inline_callback_data,
    json_field,
    message_text,
    reply_markup,
)

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAE-fake-token-for-tests_only0000000"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Telegram's default: everything except these three.
DEFAULT_UPDATE_TYPES = frozenset({
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "inline_query",
    "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "poll",
    "poll_answer", "my_chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    "purchased_paid_media",
})
SEND_METHODS = frozenset({"sendmessage", "editmessagetext"})
GROUP_KINDS = frozenset({"group", "supergroup", "channel"})
_SELF = object()  # share_contact's default: the citizen's own contact


class FakeBotAPI:
    """One bot's Bot API on a loopback port, with a control side to play citizens and inspect."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = "eblagh_test_bot",
        limits: Limits | None = None,
        faults: Faults | None = None,
        users: Iterable[int] = (),
        blocked: Iterable[int] = (),
        strict_ampersand: bool = True,
        webhook_retry_delay: float = 0.05,
        host: str = "127.0.0.1",
        port: int = 0,
        platform: str = "telegram",
        bale_options: bale.BaleOptions | None = None,
    ) -> None:
        self.token = token
        self.platform = platform
        # Bale's differences, or None on Telegram (the hooks below ask `if self.bale`).
        self.bale = (bale_options or bale.BaleOptions()) if platform == bale.PLATFORM else None
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "eblagh",
                         "username": username, "can_join_groups": False,
                         "can_read_all_group_messages": False, "supports_inline_queries": False}
        self.strict_ampersand = strict_ampersand
        self.webhook_retry_delay = webhook_retry_delay
        self._host, self._port = host, port
        self.configure(limits=limits or Limits(), faults=faults or Faults())
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        # chats and people
        self._users: dict[int, dict[str, Any]] = {}
        self._blocked: set[int] = set()
        self._chats: dict[int, list[ChatMessage]] = {}
        self._groups: dict[int, dict[str, Any]] = {}  # group chat id -> its Bot API chat object
        self._message_ids: dict[int, itertools.count[int]] = {}
        self.callbacks: dict[str, CallbackQuery] = {}
        self._callback_ids = itertools.count(5_000_000_000_000)
        # updates and delivery
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(700_000_001)
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poller: object | None = None
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_error: tuple[int, str] | None = None
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self._signal = asyncio.Event()
        self._closing = False
        for user_id in [*users, *blocked]:
            self.add_user(user_id)
        self._blocked.update(blocked)
        # bookkeeping
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.refused: list[Refused] = []
        self.payments = FakePayments(self)  # sendInvoice, answerPreCheckoutQuery, inquireTransaction, pay

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeBotAPI:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        control.add_routes(app, self)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{self._host}:{port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        if self._webhook_task:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def configure(self, *, limits: Limits | None = None, faults: Faults | None = None) -> None:
        """Change flood control or fault injection (counters of the old ones are dropped)."""
        if limits is not None:
            self.limits = limits
            self._flood = FloodControl(limits)
        if faults is not None:
            self.faults = faults
            self._faults = FaultInjector(faults)

    # ---- the citizens' side ----------------------------------------------------------------

    def add_user(self, user_id: int, *, first_name: str | None = None, username: str | None = None,
                 language_code: str = "fa") -> dict[str, Any]:
        """Make a person (and their private chat, chat_id == user_id) known to the server."""
        if user_id not in self._users:
            user = {"id": user_id, "is_bot": False, "first_name": first_name or f"شهروند {user_id}",
                    "language_code": language_code}
            if username:
                user["username"] = username
            self._users[user_id] = user
            self._chats[user_id] = []
            self._message_ids[user_id] = itertools.count(1)
        return self._users[user_id]

    def send_text(self, user_id: int, text: str, *, reply_to_message_id: int | None = None,
                  entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The citizen writes `text`; returns the queued update."""
        message = self._incoming(user_id, text=text, reply_to_message_id=reply_to_message_id)
        payload = self._message_json(message)
        if entities:
            payload["entities"] = entities
        return self._enqueue("message", payload)

    def send_command(self, user_id: int, command: str) -> dict[str, Any]:
        """The citizen sends `/name args` (a bot_command entity covers `/name[@bot]`)."""
        if not command.startswith("/"):
            raise ValueError("a command starts with '/'")
        head = command.split(maxsplit=1)[0]
        return self.send_text(user_id, command,
                              entities=[{"type": "bot_command", "offset": 0, "length": len(head.encode("utf-16-le")) // 2}])

    def share_contact(self, user_id: int, phone: str, contact_user_id: Any = _SELF, *,
                      first_name: str | None = None, phone_as_number: bool = False,
                      forwarded: bool = False) -> dict[str, Any]:
        """The citizen shares a contact: their own by default, `contact_user_id=None` for a non-user
        (or a Bale contact that comes without user_id). `phone_as_number`: phone_number as a JSON
        number, digits only (Bale: python-bale-bot types it int). `forwarded`: the citizen forwards a
        contact message instead of sending one."""
        user = self.add_user(user_id)
        number: Any = int("".join(c for c in phone if c.isdigit())) if phone_as_number else phone
        contact: dict[str, Any] = {"phone_number": number, "first_name": first_name or user["first_name"]}
        owner = user_id if contact_user_id is _SELF else contact_user_id
        if owner is not None:
            contact["user_id"] = int(owner)
        message = self._incoming(user_id, contact=contact)
        if forwarded:
            origin = {"id": 777_000, "is_bot": False, "first_name": "forwarded"}
            message.extra = (bale.forward_fields(origin, message.date) if self.bale else
                             {"forward_origin": {"type": "user", "date": message.date, "sender_user": origin}})
        return self._enqueue("message", self._message_json(message))

    def tap(self, user_id: int, message_id: int, callback_data: str, *, check: bool = True) -> str:
        """The citizen taps an inline button; returns the callback query id.

        With `check` the button must be on that message, as a real client can tap nothing else;
        `check=False` forges any data, as a hostile client could.
        """
        self.add_user(user_id)
        message = self._find(user_id, message_id)
        if message is None or not message.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {user_id}")
        if check and callback_data not in inline_callback_data(message.reply_markup):
            raise LookupError(f"message {message_id} has no button with data {callback_data!r}")
        query_id = str(next(self._callback_ids))
        self.callbacks[query_id] = CallbackQuery(query_id, user_id, message_id, callback_data)
        payload = {"id": query_id, "from": self._users[user_id], "message": self._message_json(message),
                   "chat_instance": str(-user_id), "data": callback_data}
        self._enqueue("callback_query", bale.callback_query(payload) if self.bale else payload)
        return query_id

    def block(self, user_id: int) -> None:
        """The citizen blocks the bot: sends to them answer 403."""
        self.add_user(user_id)
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    # ---- groups: several people in one chat -------------------------------------------------

    def add_group(self, chat_id: int, *, title: str = "گروه محله", kind: str = "group",
                  members: Iterable[int] = ()) -> dict[str, Any]:
        """A group, supergroup or channel chat the bot is in; its id is negative, as on Telegram."""
        if chat_id >= 0:
            raise ValueError("a group's chat id is negative")
        if kind not in GROUP_KINDS:
            raise ValueError(f"a group chat is one of {sorted(GROUP_KINDS)}, not {kind!r}")
        for user_id in members:
            self.add_user(user_id)
        if chat_id not in self._groups:
            self._groups[chat_id] = {"id": chat_id, "type": kind, "title": title}
            self._chats[chat_id] = []
            self._message_ids[chat_id] = itertools.count(1)
        return self._groups[chat_id]

    def group_send_text(self, chat_id: int, user_id: int, text: str, *, reply_to_message_id: int | None = None,
                        entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A member writes `text` in the group; returns the queued update."""
        message = self._group_incoming(chat_id, user_id, text=text, reply_to_message_id=reply_to_message_id)
        payload = self._message_json(message)
        if entities:
            payload["entities"] = entities
        return self._enqueue("message", payload)

    def group_send_command(self, chat_id: int, user_id: int, command: str) -> dict[str, Any]:
        """A member sends `/name[@bot] args` in the group."""
        if not command.startswith("/"):
            raise ValueError("a command starts with '/'")
        head = command.split(maxsplit=1)[0]
        return self.group_send_text(chat_id, user_id, command, entities=[
            {"type": "bot_command", "offset": 0, "length": len(head.encode("utf-16-le")) // 2}])

    def group_share_contact(self, chat_id: int, user_id: int, phone: str, contact_user_id: Any = _SELF) -> dict[str, Any]:
        """A member shares a contact in the group (their own by default)."""
        user = self.add_user(user_id)
        contact: dict[str, Any] = {"phone_number": phone, "first_name": user["first_name"]}
        owner = user_id if contact_user_id is _SELF else contact_user_id
        if owner is not None:
            contact["user_id"] = int(owner)
        return self._enqueue("message", self._message_json(self._group_incoming(chat_id, user_id, contact=contact)))

    def forward_to_group(self, user_id: int, from_chat_id: int, message_id: int, chat_id: int) -> ChatMessage:
        """A member forwards a bot message (a notice card, buttons and all) from a chat into the group.

        The bot receives no update for it (a forward of its own message is not addressed to it).
        """
        original = self.message(from_chat_id, message_id)
        if chat_id not in self._groups:
            raise LookupError(f"no group {chat_id}")
        self.add_user(user_id)
        return self._store(ChatMessage(
            message_id=next(self._message_ids[chat_id]), chat_id=chat_id, from_bot=False, date=int(time.time()),
            text=original.text, entities=list(original.entities), reply_markup=original.reply_markup,
            from_user=user_id, forwarded_from_bot=original.from_bot))

    def group_tap(self, chat_id: int, user_id: int, message_id: int, callback_data: str, *,
                  check: bool = True) -> str:
        """A member taps an inline button on a message in the group (the bot's, or a forwarded card)."""
        self.add_user(user_id)
        message = self._find(chat_id, message_id) if chat_id in self._groups else None
        if message is None or not (message.from_bot or message.forwarded_from_bot):
            raise LookupError(f"no bot message {message_id} in group {chat_id}")
        if check and callback_data not in inline_callback_data(message.reply_markup):
            raise LookupError(f"message {message_id} has no button with data {callback_data!r}")
        query_id = str(next(self._callback_ids))
        self.callbacks[query_id] = CallbackQuery(query_id, chat_id, message_id, callback_data)
        self._enqueue("callback_query", {
            "id": query_id, "from": self._users[user_id], "message": self._message_json(message),
            "chat_instance": str(chat_id), "data": callback_data,
        })
        return query_id

    def _group_incoming(self, chat_id: int, user_id: int, **fields: Any) -> ChatMessage:
        if chat_id not in self._groups:
            raise LookupError(f"no group {chat_id}")
        self.add_user(user_id)
        reply_to = fields.pop("reply_to_message_id", None)
        if reply_to is not None and self._find(chat_id, reply_to) is None:
            raise LookupError(f"no message {reply_to} in chat {chat_id}")
        return self._store(ChatMessage(message_id=next(self._message_ids[chat_id]), chat_id=chat_id,
                                       from_bot=False, date=int(time.time()), reply_to_message_id=reply_to,
                                       from_user=user_id, **fields))

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        """The Bot API chat object: a group's (with type and title), or a person's private chat."""
        if chat_id in self._groups:
            return dict(self._groups[chat_id])
        user = self._users[chat_id]
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return chat

    # ---- inspection -----------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[ChatMessage]:
        """What the bot sent to the chat, oldest first, in its current (possibly edited) form."""
        return [m for m in self._chats.get(chat_id, []) if m.from_bot]

    def history(self, chat_id: int) -> list[ChatMessage]:
        """Both sides of the chat."""
        return list(self._chats.get(chat_id, []))

    def last(self, chat_id: int) -> ChatMessage:
        return self.messages(chat_id)[-1]

    def message(self, chat_id: int, message_id: int) -> ChatMessage:
        found = self._find(chat_id, message_id)
        if found is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        return found

    @property
    def chat_ids(self) -> list[int]:
        return list(self._chats)

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 5.0  # noqa: ASYNC109 - the timeout is part of the assertion
    ) -> list[ChatMessage]:
        """Wait until the bot has sent at least `count` messages to the chat; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.messages(chat_id)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"chat {chat_id}: {len(self.messages(chat_id))} of {count} messages "
                                   f"after {timeout}s: {[m.text for m in self.messages(chat_id)]}")
            await self._wait_change(remaining)
        return self.messages(chat_id)

    @property
    def unanswered_callbacks(self) -> list[str]:
        return [q.id for q in self.callbacks.values() if not q.answered]

    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._updates)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "rate_limited": self.statuses[429],
            "errors": sum(v for k, v in self.statuses.items() if k >= 400),
            "refused": len(self.refused),
            "sent": sum(len(self.messages(c)) for c in self._chats),
            "unanswered_callbacks": len(self.unanswered_callbacks),
            "pending_updates": len(self._updates),
        }

    def reset_stats(self) -> None:
        self.requests.clear()
        self.statuses.clear()
        self.refused.clear()

    def assert_nothing_refused(self) -> None:
        assert not self.refused, f"refused requests: {self.refused}"

    # ---- HTTP ------------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return error_response(ApiError(404, "Not Found"))

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.requests[method] += 1
        if request.match_info["token"] != self.token:
            error = ApiError(401, "Unauthorized")
            self._refuse(method, error, None)
            return error_response(error)
        if self._faults.faults.ratio and method.lower() == "sendmessage" and self._faults.strikes():
            status = self._faults.faults.status
            self._refuse(method, ApiError(status, "Bad Gateway"), None)
            if self._faults.faults.html_body:
                return web.Response(status=status, content_type="text/html",
                                    text="<html><head><title>502 Bad Gateway</title></head>"
                                         "<body><center><h1>502 Bad Gateway</h1></center>"
                                         "<hr><center>nginx/1.18.0</center></body></html>")
            return error_response(ApiError(status, "Bad Gateway"))
        try:
            params = await read_params(request)
        except ApiError as error:
            self._refuse(method, error, None)
            return error_response(error)
        try:
            result = await self.call(method, params)
        except ApiError as error:
            self._refuse(method, error, chat_of(params))
            return error_response(error)
        self.statuses[200] += 1
        return web.json_response({"ok": True, "result": result})

    def _refuse(self, method: str, error: ApiError, chat_id: int | None) -> None:
        self.statuses[error.status] += 1
        self.refused.append(Refused(method, error.status, error.description, chat_id, time.monotonic()))

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Run one Bot API method; raise ApiError as Telegram would refuse it."""
        handler = getattr(self, f"_api_{method.lower()}", None) or self.payments.handler(method)
        if self.bale and method.lower() in bale.UNKNOWN_METHODS:
            raise bale.unknown_method()
        if handler is None:
            raise ApiError(404, "Not Found")
        return await handler(params)

    # ---- Bot API methods -------------------------------------------------------------------

    async def _api_getme(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_logout(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        self._flood_check(chat_id)
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        parsed = self._text(params)
        markup = reply_markup(params.get("reply_markup"))
        reply_to = reply_target(params)
        if reply_to is not None and self._find(chat_id, reply_to[0]) is None:
            if not reply_to[1]:
                raise bad_request("message to be replied not found")
            reply_to = None
        message = self._store(ChatMessage(
            message_id=next(self._message_ids[chat_id]), chat_id=chat_id, from_bot=True, date=int(time.time()),
            text=parsed.text, html=self._html(params), parse_mode=self._parse_mode(params),
            entities=parsed.entities, reply_markup=markup, reply_to_message_id=reply_to[0] if reply_to else None,
            link_preview_disabled=preview_disabled(params),
        ))
        return self._message_json(message)

    async def _api_editmessagetext(self, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._chat(params)
        self._flood_check(chat_id)
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        message_id = as_int(params.get("message_id"), "message_id")
        message = self._find(chat_id, message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        parsed = self._text(params)
        markup = reply_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        if (parsed.text, parsed.entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        message.edits.append(Edit(message.text or "", message.html, message.reply_markup, time.monotonic()))
        message.text, message.html, message.entities = parsed.text, self._html(params), parsed.entities
        message.parse_mode = self._parse_mode(params)
        message.reply_markup = markup
        message.edit_date = int(time.time())
        self._notify()
        return self._message_json(message)

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query = self.callbacks.get(str(params.get("callback_query_id", "")))
        if query is None or query.answered:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered, query.answer_text = True, text
        query.show_alert = as_bool(params.get("show_alert"))
        self._notify()
        return True

    async def _api_getupdates(self, params: dict[str, Any]) -> Any:
        if self.bale:
            params = bale.getupdates_params(params, self.bale)
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = as_int(params.get("offset", 0), "offset")
        limit = min(max(as_int(params.get("limit", 100), "limit"), 1), 100)
        timeout = max(0.0, float(params.get("timeout", 0) or 0))
        if params.get("allowed_updates") not in (None, ""):
            self._set_allowed(params.get("allowed_updates"))
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        me = object()
        self._poller = me
        self._notify()  # wakes an older long poll, which Telegram terminates with 409
        await asyncio.sleep(0)
        deadline = time.monotonic() + timeout
        while True:
            ready = self._deliverable()[:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or self._closing:
                return ready
            await self._wait_change(remaining)
            if self._poller is not me:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                    "make sure that only one bot instance is running")

    async def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return await self._api_deletewebhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if parts.hostname not in LOOPBACK_HOSTS:
            # Telegram wants HTTPS on 443/80/88/8443; this fake delivers to loopback only.
            raise bad_request("bad webhook: the fake Bot API delivers to loopback addresses only")
        secret = None if self.bale else params.get("secret_token")  # Bale: setWebhook(url) only
        if secret not in (None, ""):
            secret = str(secret)
            if not (1 <= len(secret) <= 256) or not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret):
                raise bad_request("secret token contains unallowed characters")
        if params.get("allowed_updates") not in (None, ""):
            self._set_allowed(params.get("allowed_updates"))
        if as_bool(params.get("drop_pending_updates")):
            self._updates.clear()
        self.webhook_url, self.webhook_secret = url, secret or None
        self._webhook_error = None
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_webhook())
        self._notify()
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url, self.webhook_secret = "", None
        if as_bool(params.get("drop_pending_updates")):
            self._updates.clear()
        self._notify()
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {"url": self.webhook_url, "has_custom_certificate": False,
                                "pending_update_count": len(self._deliverable())}
        if self.webhook_url:
            info["max_connections"] = 40
            info["allowed_updates"] = sorted(self.allowed_updates)
            if self._webhook_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _api_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = json_field(params.get("commands"), "commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        for item in commands:
            name = item.get("command", "") if isinstance(item, dict) else ""
            if not (1 <= len(name) <= 32) or not all(c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not (1 <= len(item.get("description", "")) <= 256):
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID" if item.get("description") else "command description is empty")
        self.commands[scope_key(params)] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(scope_key(params), [])

    async def _api_deletemycommands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(scope_key(params), None)
        return True

    # ---- internals -------------------------------------------------------------------------

    def _chat(self, params: dict[str, Any]) -> int:
        raw = params.get("chat_id")
        if raw in (None, ""):
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat_id not in self._chats:
            raise bale.chat_not_found() if self.bale else bad_request("chat not found")
        return chat_id

    def _text(self, params: dict[str, Any]) -> ParsedText:
        if self.bale:
            return bale.message_text(params.get("text"))
        return message_text(params.get("text"), params.get("parse_mode"), strict_ampersand=self.strict_ampersand)

    def _html(self, params: dict[str, Any]) -> str | None:
        return None if self.bale else source_html(params)

    def _parse_mode(self, params: dict[str, Any]) -> str | None:
        return None if self.bale else params.get("parse_mode") or None

    def _flood_check(self, chat_id: int) -> None:
        wait = self._flood.check(chat_id, time.monotonic())
        if wait is not None:
            if self.bale:
                raise bale.rate_limited(self.bale.rate_limit)
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})

    def _find(self, chat_id: int, message_id: int) -> ChatMessage | None:
        for message in self._chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def _incoming(self, user_id: int, **fields: Any) -> ChatMessage:
        self.add_user(user_id)
        reply_to = fields.pop("reply_to_message_id", None)
        if reply_to is not None and self._find(user_id, reply_to) is None:
            raise LookupError(f"no message {reply_to} in chat {user_id}")
        return self._store(ChatMessage(message_id=next(self._message_ids[user_id]), chat_id=user_id,
                                       from_bot=False, date=int(time.time()), reply_to_message_id=reply_to, **fields))

    def _store(self, message: ChatMessage) -> ChatMessage:
        self._chats[message.chat_id].append(message)
        self._notify()
        return message

    def _message_json(self, message: ChatMessage, *, nested: bool = False) -> dict[str, Any]:
        sender = self.bot_user if message.from_bot else self._users[
            message.from_user if message.from_user is not None else message.chat_id]
        payload: dict[str, Any] = {"message_id": message.message_id, "from": sender,
                                   "chat": self._chat_json(message.chat_id), "date": message.date}
        if message.forwarded_from_bot:
            payload["forward_origin"] = {"type": "user", "sender_user": self.bot_user, "date": message.date}
        if message.text is not None:
            payload["text"] = message.text
            if message.entities:
                payload["entities"] = message.entities
        if message.contact is not None:
            payload["contact"] = message.contact
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            payload["reply_markup"] = message.reply_markup
        if message.edit_date:
            payload["edit_date"] = message.edit_date
        payload.update(message.extra)
        if message.link_preview_disabled:
            payload["link_preview_options"] = {"is_disabled": True}
        if message.reply_to_message_id is not None and not nested:
            replied = self._find(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                payload["reply_to_message"] = self._message_json(replied, nested=True)
        return payload

    def _enqueue(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: body}
        if kind in self.allowed_updates:
            self._updates.append(update)
            self._notify()
        return update

    def _deliverable(self) -> list[dict[str, Any]]:
        return [u for u in self._updates if kind_of(u) in self.allowed_updates]

    def _set_allowed(self, value: Any) -> None:
        kinds = json_field(value, "allowed_updates")
        if not isinstance(kinds, list):
            raise bad_request("can't parse allowed_updates JSON object")
        self.allowed_updates = frozenset(kinds) if kinds else DEFAULT_UPDATE_TYPES

    def _notify(self) -> None:
        signal, self._signal = self._signal, asyncio.Event()
        signal.set()

    async def _wait_change(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._signal.wait(), seconds)

    async def _deliver_webhook(self) -> None:
        """POST updates one at a time, in order, retrying with backoff on errors like Telegram."""
        delay = self.webhook_retry_delay
        async with ClientSession(timeout=ClientTimeout(total=30)) as session:
            while self.webhook_url and not self._closing:
                pending = self._deliverable()
                if not pending:
                    await self._wait_change(1.0)
                    continue
                update = pending[0]
                # Bale sends no secret header (it takes no secret_token either).
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} \
                    if self.webhook_secret and not self.bale else {}
                try:
                    async with session.post(self.webhook_url, json=update, headers=headers) as response:
                        body = await response.read()
                        status, reason = response.status, response.reason
                except (ClientError, TimeoutError) as error:
                    self._webhook_error = (int(time.time()), f"Connection failed: {error!r}")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                if not 200 <= status < 300:
                    self._webhook_error = (int(time.time()), f"Wrong response from the webhook: {status} {reason}")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                delay = self.webhook_retry_delay
                with contextlib.suppress(ValueError):
                    self._updates.remove(update)
                self._notify()
                await self._webhook_reply(body)

    async def _webhook_reply(self, body: bytes) -> None:
        """A webhook answer may itself be a method call, which Telegram runs without a result."""
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            return
        if isinstance(payload, dict) and isinstance(payload.get("method"), str):
            method = payload.pop("method")
            self.requests[method] += 1
            try:
                await self.call(method, payload)
                self.statuses[200] += 1
            except ApiError as error:
                self._refuse(method, error, chat_of(payload))
