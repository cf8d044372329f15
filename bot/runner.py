"""`eblagh run`: the conversation on Telegram or Bale through aiogram or python-telegram-bot.

Wiring by settings: BOT_FRAMEWORK picks the library, WEBHOOK_URL picks webhook over long polling,
REDIS_URL moves conversation state, the per-chat queues, the flood counters and the handled-update
marks to Redis so several webhook processes can share one bot; otherwise they live in the process
and the database.

Start: the Persian commands menu (setMyCommands), then deleteWebhook + getUpdates, or the webhook
server + setWebhook, and the whole delivery engine (bot/engine.py: notices, broadcasts, reminders,
deemed service, handoffs, payments reconciliation) on the same messenger, unless `deliver` is off
(`--no-deliver`: `eblagh worker`s do it). Stop (`stop` set, e.g. by SIGTERM): no new updates are
taken, the ones in hand and the messages in flight finish, the HTTP sessions close, and the exit
status is 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from redis.asyncio import Redis

from bot.app import App, build_app
from bot.chat_lock import ChatLocks, MemoryChatLocks
from bot.engine import EngineOptions, build_engine, consumer_name, open_backends
from bot.log_privacy import private_logs
from bot.messengers import BotApiMessenger, build_messenger, describe
from bot.messengers.botapi import allowed_updates
from bot.messengers.updates import BotApiClient
from bot.metrics_server import serving_metrics
from bot.patient_sender import OnUnreachable, PatientSender
from bot.pipeline import UpdatePipeline
from bot.polling import PollingFailed, poll
from bot.runtime import Runtime
from bot.settings import Framework, Platform, Settings
from bot.update_ledger import DatabaseUpdateLedger, UpdateLedger
from bot.webhook import WebhookServer, webhook_route
from handlers.answers import Understanding
from handlers.conversation import Plugin
from handlers.texts import COMMANDS_MENU
from services.clock import Clock, sleep_or_stop, system_clock
from services.conversation.state import ChatState
from services.messaging import SendError
from services.process_metrics import ProcessMetrics
from storage import citizens
from storage.redis_chat_lock import RedisChatLocks
from storage.redis_state import RedisStateStore
from storage.redis_updates import RedisUpdateLedger
from storage.redis_window import RedisWindowCounter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    poll_timeout: int = 10  # seconds a getUpdates long poll may wait (a stop waits for it)
    # Off (`--no-deliver`) when `eblagh worker`s deliver: then they alone send, at their shared pace.
    deliver: bool = True
    engine: EngineOptions = EngineOptions()  # the delivery engine's intervals and pace
    sweep_interval: float = 5.0  # seconds between looks for chat queues nobody is draining
    metrics_listen: str | None = None  # HOST:PORT to serve GET /metrics on (bot/metrics_server.py); None: off


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
    """Serve until `stop` is set; the exit status (0 after a clean stop).

    Raises MetricsListenError before anything starts when `options.metrics_listen` cannot be served.
    """
    options = options or RunOptions()
    with private_logs(runtime.settings):  # the libraries log URLs with the token, updates, parameters
        async with serving_metrics(options.metrics_listen, runtime, clock) as metrics:
            return await _run_bot(runtime, stop=stop, model=model, options=options, clock=clock,
                                  plugins=plugins, metrics=metrics)


async def _run_bot(runtime: Runtime, *, stop: asyncio.Event, model: Understanding | None, options: RunOptions,
                   clock: Clock, plugins: Sequence[Plugin], metrics: ProcessMetrics) -> int:
    settings = runtime.settings
    model = metrics.count_intents(model) if model is not None else None
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    key = bot_key(settings)
    messenger = build_messenger(settings)
    try:
        state = None
        if redis is not None:
            state = RedisStateStore[ChatState](redis, decode=ChatState.from_mapping, encode=ChatState.to_mapping)
        app = build_app(runtime, clock=clock, state=state, model=model, plugins=plugins,
                        counter=RedisWindowCounter(redis) if redis is not None else None)
        locks: ChatLocks
        ledger: UpdateLedger
        if redis is not None:
            ledger = RedisUpdateLedger(redis, key)
            locks = RedisChatLocks(redis, ledger=ledger)
        else:
            locks = MemoryChatLocks()
            db_ledger = DatabaseUpdateLedger(runtime.database, key, clock)
            await db_ledger.forget_old()
            ledger = db_ledger
        sender = PatientSender(messenger, on_unreachable=_marker(app, settings, clock))
        client = client_for(settings, messenger)
        pipeline = UpdatePipeline(app, client, sender, locks, ledger, key)
        metrics.watch_updates(lambda: asdict(pipeline.stats))
        pipeline.replies.observe = metrics.reply_latency.observe
        log.info("eblagh run: %s, %s", describe(settings), serving_mode(settings))
        return await _serve(app, settings, options, client, messenger, pipeline, locks, stop, clock, metrics)
    finally:
        await messenger.close()
        if redis is not None:
            await redis.aclose()


async def _serve(app: App, settings: Settings, options: RunOptions, client: BotApiClient,
                 messenger: BotApiMessenger, pipeline: UpdatePipeline, locks: ChatLocks, stop: asyncio.Event,
                 clock: Clock, metrics: ProcessMetrics) -> int:
    if settings.platform is Platform.BALE:
        # No Bale client offers setMyCommands (python-bale-bot, Balethon): not called, see docs/bale.md.
        log.info("commands menu: not set on Bale")
    else:
        try:
            await client.set_commands(COMMANDS_MENU)
        except SendError as error:  # a menu is a convenience, never a reason not to start
            log.warning("commands menu not set: %s %s", type(error).__name__, error.detail)
    delivery_stop = asyncio.Event()
    delivery = asyncio.create_task(_deliver(app, messenger, options, delivery_stop, clock, metrics) if options.deliver
                                   else delivery_stop.wait())
    sweeper = asyncio.create_task(_sweep(pipeline, stop, options.sweep_interval))
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
        delivery_stop.set()  # what is in flight finishes first
        await delivery
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
    return status


async def _deliver(app: App, messenger: BotApiMessenger, options: RunOptions, stop: asyncio.Event,
                   clock: Clock, metrics: ProcessMetrics) -> None:
    """The whole delivery engine in this process, on the same messenger, at the same pace as workers."""
    runtime = app.runtime
    # Named per process (and per app, for tests that restart it in one process): its heartbeat holds its claims.
    engine_options = replace(options.engine, name=options.engine.name or f"run:{consumer_name(options.engine)}:"
                             f"{id(app):x}")
    backends = open_backends(runtime, engine_options)
    try:
        engine = build_engine(runtime, messenger, backends, options=engine_options, clock=clock, inquirer=messenger,
                              wake=app.wake, metrics=metrics)
        await engine.run(stop)
    except Exception:
        log.exception("the delivery engine stopped")
    finally:
        await backends.close()


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
        await sleep_or_stop(stop, interval)


def _marker(app: App, settings: Settings, clock: Clock) -> OnUnreachable:
    async def mark_unreachable(chat_id: int) -> None:
        """A reply bounced off a blocked chat: its binding is skipped until the citizen writes again."""
        async with app.runtime.database.session() as session:
            await citizens.mark_unreachable(session, settings.platform.value, chat_id, clock())
    return mark_unreachable
