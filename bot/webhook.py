"""The webhook server: an aiohttp app on WEBHOOK_LISTEN that checks the secret and queues updates.

Telegram sends the secret given to setWebhook in the X-Telegram-Bot-Api-Secret-Token header. Bale
sends no such header, so on Bale the secret is the last segment of the registered URL's path and
the route only exists under it. A request without the right secret is refused (401) before its
body is read. A good one is answered 200 as soon as the update is queued; handling goes on in the
background, so a slow reply never makes the Bot API time out and send the update again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

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


def build_webhook_app(route: WebhookRoute, pipeline: UpdatePipeline) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        if not route.secret_in_path and not hmac.compare_digest(
                request.headers.get(SECRET_HEADER, "").encode(), route.secret.encode()):
            log.warning("webhook request without the right secret refused")
            return web.Response(status=401, text="unauthorized")
        try:
            raw = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if update_id_of(raw) is None:
            return web.Response(status=400, text="not an update")
        try:
            await pipeline.accept(raw)
        except Exception:
            # Not queued (database or Redis trouble): a non-2xx makes the Bot API send it again.
            log.exception("update %s not accepted", update_id_of(raw))
            return web.Response(status=503, text="try again")
        return web.Response(status=200)

    async def refuse(request: web.Request) -> web.Response:
        log.warning("webhook request to an unknown path refused")
        return web.Response(status=401, text="unauthorized")

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post(route.path, receive)
    app.router.add_route("*", "/{tail:.*}", refuse)
    return app


class WebhookServer:
    """Started and stopped by the runner; stopping first stops listening, then lets requests finish."""

    def __init__(self, route: WebhookRoute, pipeline: UpdatePipeline, listen: str) -> None:
        self._app = build_webhook_app(route, pipeline)
        self._listen = listen_address(listen)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._listen[0], self._listen[1])
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
