"""The fake Bot API's control side over HTTP, for benchmarks that run the bot in other processes.

Routes (JSON in, JSON out) mirror the Python API of `FakeBotAPI`:

    POST /control/users          {"user_ids": [...]}                      -> {"ok": true}
    POST /control/send_text      {"user_id", "text", "reply_to_message_id"?} -> {"update": {...}}
    POST /control/send_command   {"user_id", "command"}                   -> {"update": {...}}
    POST /control/share_contact  {"user_id", "phone", "contact_user_id"?, "phone_as_number"?,
                                  "forwarded"?}                           -> {"update": {...}}
    POST /control/tap            {"user_id", "message_id", "data"}        -> {"callback_query_id": "..."}
    POST /control/block|unblock  {"user_id"}
    POST /control/configure      {"limits": {...}?, "faults": {...}?}     (fields of Limits / Faults)
    POST /control/reset_stats
    POST /control/pay            {"user_id", "message_id", "amount"?, "repeat"?} -> {"outcome": {...}}
    GET  /control/messages?chat_id=N                                       -> {"messages": [...]}
    GET  /control/wait?chat_id=N&count=K&timeout=S                         -> {"messages": [...]} or 408
    GET  /control/stats                                                    -> FakeBotAPI.stats()
    GET  /control/refused                                                  -> {"refused": [...]}

Groups (several people in one chat; see `add_group_routes`):

    POST /control/group               {"chat_id", "title"?, "kind"?, "members"?} -> {"chat": {...}}
    POST /control/group_send_text     {"chat_id", "user_id", "text"}       -> {"update": {...}}
    POST /control/group_send_command  {"chat_id", "user_id", "command"}    -> {"update": {...}}
    POST /control/group_share_contact {"chat_id", "user_id", "phone", "contact_user_id"?} -> {"update": {...}}
    POST /control/forward_to_group    {"user_id", "from_chat_id", "message_id", "chat_id"} -> {"message": {...}}
    POST /control/group_tap           {"chat_id", "user_id", "message_id", "data", "check"?} -> {"callback_query_id"}

`ControlClient` wraps them.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from aiohttp import ClientSession, web

from tests.botapi.limits import Faults, Limits
from tests.botapi.payments import add_routes as add_payment_routes

if TYPE_CHECKING:
    from tests.botapi.server import FakeBotAPI


def add_routes(app: web.Application, api: FakeBotAPI) -> None:
    async def body(request: web.Request) -> dict[str, Any]:
        return await request.json() if request.can_read_body else {}

    def ok(payload: dict[str, Any] | None = None) -> web.Response:
        return web.json_response({"ok": True, **(payload or {})})

    async def users(request: web.Request) -> web.Response:
        for user_id in (await body(request))["user_ids"]:
            api.add_user(int(user_id))
        return ok()

    async def send_text(request: web.Request) -> web.Response:
        data = await body(request)
        return ok({"update": api.send_text(int(data["user_id"]), data["text"],
                                           reply_to_message_id=data.get("reply_to_message_id"))})

    async def send_command(request: web.Request) -> web.Response:
        data = await body(request)
        return ok({"update": api.send_command(int(data["user_id"]), data["command"])})

    async def share_contact(request: web.Request) -> web.Response:
        data = await body(request)
        extra = {"contact_user_id": data["contact_user_id"]} if "contact_user_id" in data else {}
        return ok({"update": api.share_contact(int(data["user_id"]), data["phone"], **extra,
                                               phone_as_number=bool(data.get("phone_as_number")),
                                               forwarded=bool(data.get("forwarded")))})

    async def tap(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            query_id = api.tap(int(data["user_id"]), int(data["message_id"]), data["data"],
                               check=data.get("check", True))
        except LookupError as error:
            return web.json_response({"ok": False, "description": str(error)}, status=404)
        return ok({"callback_query_id": query_id})

    async def block(request: web.Request) -> web.Response:
        api.block(int((await body(request))["user_id"]))
        return ok()

    async def unblock(request: web.Request) -> web.Response:
        api.unblock(int((await body(request))["user_id"]))
        return ok()

    async def configure(request: web.Request) -> web.Response:
        data = await body(request)
        api.configure(limits=Limits(**data["limits"]) if "limits" in data else None,
                      faults=Faults(**data["faults"]) if "faults" in data else None)
        return ok()

    async def reset_stats(request: web.Request) -> web.Response:
        api.reset_stats()
        return ok()

    async def messages(request: web.Request) -> web.Response:
        chat_id = int(request.query["chat_id"])
        return ok({"messages": [m.to_json() for m in api.messages(chat_id)]})

    async def wait(request: web.Request) -> web.Response:
        chat_id, count = int(request.query["chat_id"]), int(request.query["count"])
        try:
            found = await api.wait_for_messages(chat_id, count, float(request.query.get("timeout", 5)))
        except TimeoutError as error:
            return web.json_response({"ok": False, "description": str(error)}, status=408)
        return ok({"messages": [m.to_json() for m in found]})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(api.stats())

    async def refused(request: web.Request) -> web.Response:
        return ok({"refused": [dataclasses.asdict(r) for r in api.refused]})

    for name, handler in [("users", users), ("send_text", send_text), ("send_command", send_command),
                          ("share_contact", share_contact), ("tap", tap), ("block", block),
                          ("unblock", unblock), ("configure", configure), ("reset_stats", reset_stats)]:
        app.router.add_post(f"/control/{name}", handler)
    for name, handler in [("messages", messages), ("wait", wait), ("stats", stats), ("refused", refused)]:
        app.router.add_get(f"/control/{name}", handler)
    add_payment_routes(app, api)
    add_group_routes(app, api)


def add_group_routes(app: web.Application, api: FakeBotAPI) -> None:
    """The control side of group chats: several users writing and tapping in one chat."""
    async def body(request: web.Request) -> dict[str, Any]:
        return await request.json() if request.can_read_body else {}

    def ok(payload: dict[str, Any]) -> web.Response:
        return web.json_response({"ok": True, **payload})

    def not_found(error: LookupError) -> web.Response:
        return web.json_response({"ok": False, "description": str(error)}, status=404)

    async def group(request: web.Request) -> web.Response:
        data = await body(request)
        chat = api.add_group(int(data["chat_id"]), title=data.get("title", "گروه محله"),
                             kind=data.get("kind", "group"), members=[int(m) for m in data.get("members", [])])
        return ok({"chat": chat})

    async def group_send_text(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            return ok({"update": api.group_send_text(int(data["chat_id"]), int(data["user_id"]), data["text"])})
        except LookupError as error:
            return not_found(error)

    async def group_send_command(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            return ok({"update": api.group_send_command(int(data["chat_id"]), int(data["user_id"]), data["command"])})
        except LookupError as error:
            return not_found(error)

    async def group_share_contact(request: web.Request) -> web.Response:
        data = await body(request)
        extra = {"contact_user_id": data["contact_user_id"]} if "contact_user_id" in data else {}
        try:
            return ok({"update": api.group_share_contact(int(data["chat_id"]), int(data["user_id"]), data["phone"],
                                                         **extra)})
        except LookupError as error:
            return not_found(error)

    async def forward_to_group(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            message = api.forward_to_group(int(data["user_id"]), int(data["from_chat_id"]), int(data["message_id"]),
                                           int(data["chat_id"]))
        except LookupError as error:
            return not_found(error)
        return ok({"message": message.to_json()})

    async def group_tap(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            query_id = api.group_tap(int(data["chat_id"]), int(data["user_id"]), int(data["message_id"]),
                                     data["data"], check=data.get("check", True))
        except LookupError as error:
            return not_found(error)
        return ok({"callback_query_id": query_id})

    for name, handler in [("group", group), ("group_send_text", group_send_text),
                          ("group_send_command", group_send_command), ("group_share_contact", group_share_contact),
                          ("forward_to_group", forward_to_group), ("group_tap", group_tap)]:
        app.router.add_post(f"/control/{name}", handler)


class ControlClient:
    """Drive a FakeBotAPI in another process: `async with ControlClient(base_url) as c: ...`."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: ClientSession | None = None

    async def __aenter__(self) -> ControlClient:
        self._session = ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session:
            await self._session.close()

    async def _post(self, name: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self._session, "use ControlClient as an async context manager"
        async with self._session.post(f"{self.base_url}/control/{name}", json=payload or {}) as response:
            data: dict[str, Any] = await response.json()
            if response.status != 200:
                raise RuntimeError(data.get("description", response.status))
            return data

    async def _get(self, name: str, **query: Any) -> dict[str, Any]:
        assert self._session, "use ControlClient as an async context manager"
        async with self._session.get(f"{self.base_url}/control/{name}",
                                     params={k: str(v) for k, v in query.items()}) as response:
            data: dict[str, Any] = await response.json()
            if response.status == 408:
                raise TimeoutError(data.get("description"))
            if response.status != 200:
                raise RuntimeError(data.get("description", response.status))
            return data

    async def add_users(self, user_ids: list[int]) -> None:
        await self._post("users", {"user_ids": user_ids})

    async def send_text(self, user_id: int, text: str) -> dict[str, Any]:
        return (await self._post("send_text", {"user_id": user_id, "text": text}))["update"]

    async def send_command(self, user_id: int, command: str) -> dict[str, Any]:
        return (await self._post("send_command", {"user_id": user_id, "command": command}))["update"]

    async def share_contact(self, user_id: int, phone: str, **kwargs: Any) -> dict[str, Any]:
        return (await self._post("share_contact", {"user_id": user_id, "phone": phone, **kwargs}))["update"]

    async def tap(self, user_id: int, message_id: int, data: str) -> str:
        payload = {"user_id": user_id, "message_id": message_id, "data": data}
        return str((await self._post("tap", payload))["callback_query_id"])

    async def block(self, user_id: int) -> None:
        await self._post("block", {"user_id": user_id})

    async def pay(self, user_id: int, message_id: int, **kwargs: Any) -> dict[str, Any]:
        """The citizen pays an invoice (see payments.FakePayments.pay); the outcome as JSON."""
        return dict((await self._post("pay", {"user_id": user_id, "message_id": message_id, **kwargs}))["outcome"])

    async def configure(self, *, limits: Limits | None = None, faults: Faults | None = None) -> None:
        payload: dict[str, Any] = {}
        if limits:
            payload["limits"] = dataclasses.asdict(limits)
        if faults:
            payload["faults"] = dataclasses.asdict(faults)
        await self._post("configure", payload)

    async def messages(self, chat_id: int) -> list[dict[str, Any]]:
        return list((await self._get("messages", chat_id=chat_id))["messages"])

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 5.0  # noqa: ASYNC109 - sent to the server, which waits
    ) -> list[dict[str, Any]]:
        return list((await self._get("wait", chat_id=chat_id, count=count, timeout=timeout))["messages"])

    async def stats(self) -> dict[str, Any]:
        return await self._get("stats")

    async def refused(self) -> list[dict[str, Any]]:
        return list((await self._get("refused"))["refused"])

    async def reset_stats(self) -> None:
        await self._post("reset_stats")

    # groups

    async def add_group(self, chat_id: int, *, title: str = "گروه محله", kind: str = "group",
                        members: list[int] | None = None) -> dict[str, Any]:
        payload = {"chat_id": chat_id, "title": title, "kind": kind, "members": members or []}
        return dict((await self._post("group", payload))["chat"])

    async def group_send_text(self, chat_id: int, user_id: int, text: str) -> dict[str, Any]:
        return (await self._post("group_send_text", {"chat_id": chat_id, "user_id": user_id, "text": text}))["update"]

    async def group_send_command(self, chat_id: int, user_id: int, command: str) -> dict[str, Any]:
        payload = {"chat_id": chat_id, "user_id": user_id, "command": command}
        return (await self._post("group_send_command", payload))["update"]

    async def group_share_contact(self, chat_id: int, user_id: int, phone: str, **kwargs: Any) -> dict[str, Any]:
        payload = {"chat_id": chat_id, "user_id": user_id, "phone": phone, **kwargs}
        return (await self._post("group_share_contact", payload))["update"]

    async def forward_to_group(self, user_id: int, from_chat_id: int, message_id: int, chat_id: int) -> dict[str, Any]:
        payload = {"user_id": user_id, "from_chat_id": from_chat_id, "message_id": message_id, "chat_id": chat_id}
        return dict((await self._post("forward_to_group", payload))["message"])

    async def group_tap(self, chat_id: int, user_id: int, message_id: int, data: str, *, check: bool = True) -> str:
        payload = {"chat_id": chat_id, "user_id": user_id, "message_id": message_id, "data": data, "check": check}
        return str((await self._post("group_tap", payload))["callback_query_id"])
