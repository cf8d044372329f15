"""The webhook server: an aiohttp app on WEBHOOK_LISTEN that checks the secret and queues updates.

Telegram sends the secret given to setWebhook in the X-Telegram-Bot-Api-Secret-Token header. Bale
sends no such header, so on Bale the secret is the last segment of the registered URL's path and
the route only exists under it. A request without the right secret is refused (401) before its
body is read; a body that is not a JSON update (unparseable, nested too deeply for the parser,
too large) gets 400 (413). A good one is answered 200 as soon as the update is queued; handling goes
on in the background, so a slow reply never makes the Bot API time out and send the update again.

Refusals are counted and logged at most once a minute (a scanner must not fill the log), and the
path is never logged: on Bale it holds the secret. aiohttp's access log is off, and a redacting
filter on aiohttp's loggers and the root handlers scrubs the secret from anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.log_guard import ThrottledLog
from bot.messengers.updates import update_id_of
from bot.pipeline import UpdatePipeline
from bot.settings import Platform, Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class WebhookRoute:
    register_url: str  # what setWebhook is given
    path: str  # what the local server answers
    secret: str
    secret_in_path: bool

    @property
    def header_secret(self) -> str | None:
        """The secret_token for setWebhook (None on Bale, which has no such parameter)."""
        return None if self.secret_in_path else self.secret


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, or one derived from the token: stable across processes, never guessable."""
    if settings.webhook_secret:
        return settings.webhook_secret
    token = (settings.bot_token or "").encode()
    return hmac.new(token, b"eblagh-webhook", hashlib.sha256).hexdigest()


def webhook_route(settings: Settings) -> WebhookRoute:
    assert settings.webhook_url, "webhook mode needs WEBHOOK_URL"
    secret = webhook_secret(settings)
    url = settings.webhook_url.rstrip("/")
    path = urlsplit(url).path or ""
    if settings.platform is Platform.BALE:
        return WebhookRoute(f"{url}/{secret}", f"{path}/{secret}", secret, secret_in_path=True)
    return WebhookRoute(url, path or "/", secret, secret_in_path=False)


def listen_address(listen: str) -> tuple[str, int]:
    """`host:port` (or `[::1]:port`, or `:port` for every interface)."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


MAX_BODY = 4 * 1024 * 1024


def parse_body(body: bytes) -> Any:
    """The JSON value of a request body, or None when it cannot be read as JSON.

    RecursionError is json's answer to deep nesting ([[[[...]]]]): the sender's fault, not ours.
    """
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # ValueError covers bad JSON, bad UTF-8, too many digits
        return None


def refusal_log() -> ThrottledLog:
    return ThrottledLog(log, "webhook requests refused")


def build_webhook_app(route: WebhookRoute, pipeline: UpdatePipeline,
                      refused: ThrottledLog | None = None) -> web.Application:
    refused = refused or refusal_log()

    async def receive(request: web.Request) -> web.Response:
        if not route.secret_in_path and not hmac.compare_digest(
                request.headers.get(SECRET_HEADER, "").encode(), route.secret.encode()):
            refused.note("wrong secret")
            return web.Response(status=401, text="unauthorized")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            refused.note("body too large")
            return web.Response(status=413, text="too large")
        raw = parse_body(body)
        if raw is None:
            refused.note("not JSON")
            return web.Response(status=400, text="not JSON")
        if update_id_of(raw) is None:
            refused.note("not an update")
            return web.Response(status=400, text="not an update")
        try:
            await pipeline.accept(raw)
        except Exception:
            # Not queued (database or Redis trouble): a non-2xx makes the Bot API send it again.
            log.exception("update %s not accepted", update_id_of(raw))
            return web.Response(status=503, text="try again")
        refused.tick()
        return web.Response(status=200)

    async def refuse(request: web.Request) -> web.Response:
        refused.note("unknown path")  # never the path itself: on Bale a near miss may hold the secret
        return web.Response(status=401, text="unauthorized")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(route.path, receive)
    app.router.add_route("*", "/{tail:.*}", refuse)
    return app


class WebhookServer:
    """Started and stopped by the runner; stopping first stops listening, then lets requests finish."""

    def __init__(self, route: WebhookRoute, pipeline: UpdatePipeline, listen: str) -> None:
        self._refused = refusal_log()
        self._app = build_webhook_app(route, pipeline, self._refused)
        self._listen = listen_address(listen)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        # access_log=None: aiohttp's access log would write every request line, Bale's secret path too
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=5.0)
        try:
            await self._runner.setup()
            site = web.TCPSite(self._runner, self._listen[0], self._listen[1])
            await site.start()
        except BaseException:
            await self.stop()
            raise
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._refused.flush()
