"""`eblagh run`: the conversation on Telegram or Bale through aiogram or python-telegram-bot.

Wiring by settings: BOT_FRAMEWORK picks the library, WEBHOOK_URL picks webhook over long polling,
REDIS_URL moves conversation state, the per-chat queues, the flood counters and the handled-update
marks to Redis so several webhook processes can share one bot; otherwise they live in the process
and the database.

Start: the Persian commands menu (setMyCommands), then deleteWebhook + getUpdates, or the webhook
server + setWebhook, and a notice delivery loop on the same messenger. Stop (`stop` set, e.g. by
SIGTERM): no new updates are taken, the ones in hand and the current delivery pass finish, the
HTTP sessions close, and the exit status is 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.app import App, build_app, outbox_delivery
from bot.callback_lane import run_callbacks
from bot.log_privacy import private_logs
from bot.messengers import BotApiMessenger, build_messenger, describe
from bot.messengers.botapi import allowed_updates
from bot.messengers.updates import BotApiClient
from bot.patient_sender import OnUnreachable, PatientSender
from bot.pipeline import UpdatePipeline
from bot.polling import PollingFailed, poll
from bot.runtime import Runtime
from bot.settings import Framework, Platform, Settings
from bot.webhook import WebhookServer, webhook_route
from handlers.answers import Understanding
from handlers.conversation import Plugin
from handlers.texts import COMMANDS_MENU
from services.chat_lock import ChatLocks, MemoryChatLocks
from services.clock import Clock, system_clock
from services.messaging import SendError
from services.state import ChatState
from services.update_ledger import DatabaseUpdateLedger, UpdateLedger
from storage import citizens
from storage.redis_chat_lock import RedisChatLocks
from storage.redis_state import RedisStateStore
from storage.redis_updates import RedisUpdateLedger
from storage.redis_window import RedisWindowCounter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    poll_timeout: int = 10  # seconds a getUpdates long poll may wait (a stop waits for it)
    delivery_interval: float = 1.0  # seconds between passes of the notice delivery loop
    # Off when `eblagh worker`s deliver: then every notice goes through their shared rate budget.
    deliver_notices: bool = True
    sweep_interval: float = 5.0  # seconds between looks for chat queues nobody is draining
    reconcile_interval: float = 30.0  # seconds between inquireTransaction passes over pending payments


def bot_key(settings: Settings) -> str:
    """platform:bot id (the token's public half): names this bot's marks and queues."""
    return f"{settings.platform.value}:{(settings.bot_token or '').split(':', 1)[0]}"


def serving_mode(settings: Settings) -> str:
    """How updates arrive, for the start-up line."""
    return f"webhook on {settings.webhook_listen}" if settings.webhook_url else "long polling"


def client_for(settings: Settings, messenger: BotApiMessenger) -> BotApiClient:
    updates = allowed_updates(settings.payment_token is not None)
    if settings.bot_framework is Framework.PTB:
        from bot.messengers.ptb_adapter import PtbMessenger
        from bot.messengers.ptb_client import PtbClient

        assert isinstance(messenger, PtbMessenger)
        return PtbClient(messenger, updates)
    from bot.messengers.aiogram_adapter import AiogramMessenger
    from bot.messengers.aiogram_client import AiogramClient

    assert isinstance(messenger, AiogramMessenger)
    return AiogramClient(messenger, updates)


async def run_bot(runtime: Runtime, *, stop: asyncio.Event, model: Understanding | None = None,
                  options: RunOptions | None = None, clock: Clock = system_clock,
                  plugins: Sequence[Plugin] = ()) -> int:
    """Serve until `stop` is set; the exit status (0 after a clean stop)."""
    with private_logs(runtime.settings):  # the libraries log URLs with the token, updates, parameters
        return await _run_bot(runtime, stop=stop, model=model, options=options or RunOptions(), clock=clock,
                              plugins=plugins)


async def _run_bot(runtime: Runtime, *, stop: asyncio.Event, model: Understanding | None, options: RunOptions,
                   clock: Clock, plugins: Sequence[Plugin]) -> int:
    settings = runtime.settings
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    key = bot_key(settings)
    messenger = build_messenger(settings)
    try:
        state = None
        if redis is not None:
            state = RedisStateStore[ChatState](redis, decode=ChatState.from_mapping, encode=ChatState.to_mapping)
        app = build_app(runtime, clock=clock, state=state, model=model, plugins=plugins,
                        counter=RedisWindowCounter(redis) if redis is not None else None)
        locks: ChatLocks = RedisChatLocks(redis) if redis is not None else MemoryChatLocks()
        ledger: UpdateLedger
        if redis is not None:
            ledger = RedisUpdateLedger(redis, key)
        else:
            db_ledger = DatabaseUpdateLedger(runtime.database, key, clock)
            await db_ledger.forget_old()
            ledger = db_ledger
        sender = PatientSender(messenger, on_unreachable=_marker(app, settings, clock))
        client = client_for(settings, messenger)
        pipeline = UpdatePipeline(app, client, sender, locks, ledger, key)
        log.info("eblagh run: %s, %s", describe(settings), serving_mode(settings))
        return await _serve(app, settings, options, client, messenger, pipeline, locks, stop)
    finally:
        await messenger.close()
        if redis is not None:
            await redis.aclose()


async def _serve(app: App, settings: Settings, options: RunOptions, client: BotApiClient,
                 messenger: BotApiMessenger, pipeline: UpdatePipeline, locks: ChatLocks, stop: asyncio.Event) -> int:
    if settings.platform is Platform.BALE:
        # No Bale client offers setMyCommands (python-bale-bot, Balethon): not called, see docs/bale.md.
        log.info("commands menu: not set on Bale")
    else:
        try:
            await client.set_commands(COMMANDS_MENU)
        except SendError as error:  # a menu is a convenience, never a reason not to start
            log.warning("commands menu not set: %s %s", type(error).__name__, error.detail)
    delivery_stop = asyncio.Event()
    delivery = asyncio.create_task(
        app.delivery.run_forever(messenger, options.delivery_interval, delivery_stop) if options.deliver_notices
        else delivery_stop.wait())
    # Broadcast copies, reminders and dashboard replies too, unless `eblagh worker`s deliver.
    outbox_pass = asyncio.create_task(
        outbox_delivery(app).run_forever(messenger, options.delivery_interval, delivery_stop)
        if options.deliver_notices else delivery_stop.wait())
    sweeper = asyncio.create_task(_sweep(pipeline, stop, options.sweep_interval))
    reconciling = asyncio.create_task(_reconcile(app, messenger, stop, options.reconcile_interval))
    callbacks = asyncio.create_task(run_callbacks(app.runtime, delivery_stop))  # the integration API's callbacks
    status = 0
    try:
        if settings.webhook_url:
            status = await _webhook(settings, client, pipeline, stop)
        else:
            await poll(client, pipeline, stop, long_poll=options.poll_timeout, wait_for_batch=not locks.durable)
    except PollingFailed as error:
        log.error("the Bot API refuses this bot: %s", error)
        status = 1
    except Exception:
        log.exception("eblagh run failed")
        status = 1
    finally:
        stop.set()
        await pipeline.settle()
        delivery_stop.set()  # the pass in progress finishes first
        await delivery
        await callbacks
        await outbox_pass
        for task in (sweeper, reconciling):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return status


async def _webhook(settings: Settings, client: BotApiClient, pipeline: UpdatePipeline, stop: asyncio.Event) -> int:
    route = webhook_route(settings)
    server = WebhookServer(route, pipeline, settings.webhook_listen)
    await server.start()
    try:
        try:
            await client.set_webhook(route.register_url, route.header_secret)
        except SendError as error:
            log.error("setWebhook failed: %s %s", type(error).__name__, error.detail)
            return 1
        await stop.wait()
    finally:
        await server.stop()  # stop listening first: the Bot API keeps new updates and retries later
    return 0


async def _sweep(pipeline: UpdatePipeline, stop: asyncio.Event, interval: float) -> None:
    while not stop.is_set():
        try:
            await pipeline.sweep()
        except Exception:
            log.exception("sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def _reconcile(app: App, messenger: BotApiMessenger, stop: asyncio.Event, interval: float) -> None:
    """Fines paid in the chat: confirm pending payments with inquireTransaction (bounded retries)."""
    if app.reconciler is None:
        return
    while not stop.is_set():
        try:
            stats = await app.reconciler.run_once(messenger)
            if stats.confirmed or stats.failed or stats.gave_up:
                log.info("payments reconciled: %s", stats)
        except Exception:
            log.exception("payment reconciliation failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def _marker(app: App, settings: Settings, clock: Clock) -> OnUnreachable:
    async def mark_unreachable(chat_id: int) -> None:
        """A reply bounced off a blocked chat: its binding is skipped until the citizen writes again."""
        async with app.runtime.database.session() as session:
            await citizens.mark_unreachable(session, settings.platform.value, chat_id, clock())
    return mark_unreachable
