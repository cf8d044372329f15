"""Delivery benchmark: eblagh workers against the loopback Bot API with the limit enforced; one JSON object.

    python bench/delivery.py [--messages 20000] [--limit 300] [--workers 3] [--kill-at 0.3]
                             [--wipe-messages 4000] [--baseline-messages 6000] [--notices 1000000]
                             [--database-url postgresql://...]

1. steady: `--messages` subscribers (1 % blocked the bot), one `eblagh broadcast create`, `--workers`
   `eblagh worker` processes on one PostgreSQL and one Redis, nobody killed. The fake Bot API (`python -m
   tests.botapi`, another process) enforces `--limit` messages a second over the bot and 1 a second per
   chat, with 429 + retry_after.
2. broadcast: the same again to other subscribers, one worker killed with SIGKILL once `--kill-at` of the
   messages went out; `recovery_s` is how much later it finished than the steady phase.
3. redis_wipe: a fresh worker brings the fleet back to `--workers`; a second broadcast to
   `--wipe-messages` other subscribers (2 % blocked), Redis flushed half way (0: skipped).
4. baselines at the same limit against the same server: python-telegram-bot's AIORateLimiter in one
   process (128 concurrent sends), and a plain loop with a fixed sleep of 1/limit after each send (0: skipped).
5. idle: `--notices` notices in a fresh PostgreSQL database (written with INSERT ... SELECT generate_series:
   half delivered and sent, half with a message waiting to be retried tomorrow), then the time of one idle
   sweeper pass and one pass of the timed duties, and the CPU of one idle `eblagh worker` (0: skipped).

Measured from the server's side: achieved rate (requests that passed flood control, a second, over the
busy period) over the limit, 429s, lost (reachable chats without the message), duplicates (copies
beyond one), CPU seconds a message (psutil, all processes of the sender); `steady_rate_over_limit` counts
the middle 80 % of the messages (from the 10th to the 90th percentile of their send times), without the
start-up and the tail. The fake server is a Python process too: its garbage collector's pauses (logged,
up to ~40 ms here) hold requests back and then count them as a burst, which no sender can prevent;
`--server-gc tuned` (the default) freezes its long-lived objects so its own pauses stay short,
`--server-gc default` leaves it as is. Needs PostgreSQL and Redis on 127.0.0.1 (DESIGN.md); creates and
drops its own databases, uses Redis database 14.

Before this engine (README, three runs of 20,000 messages at 300/s, pace 0.96): 0.957 of the limit, and
a killed worker's last messages waited for the 60 s claim timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project first: bench/nlp.py would shadow the nlp package

import asyncpg  # noqa: E402
import psutil  # noqa: E402
import redis.asyncio as redis  # noqa: E402
from aiohttp import ClientSession  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlmodel import col  # noqa: E402

from services.broadcasts import BroadcastService  # noqa: E402
from services.clock import system_clock  # noqa: E402
from storage import broadcasts  # noqa: E402
from storage.database import Database, upgrade  # noqa: E402
from storage.models import Message  # noqa: E402
from tests.botapi.control import ControlClient  # noqa: E402
from tests.delivery_kit import SECRET, seed_subscribers  # noqa: E402

PYTHON = sys.executable
EBLAGH = str(Path(PYTHON).with_name("eblagh"))
REDIS_URL = "redis://127.0.0.1:6379/14"


class Monitor:
    """Follows a broadcast's progress in the database and the senders' CPU while a phase runs.

    The server is asked nothing while messages flow: its control side shares the event loop that
    enforces the limit, and a slow control request there would bunch up the sends behind it.
    """

    def __init__(self, db: Database, broadcast_id: int) -> None:
        self.db = db
        self.broadcast_id = broadcast_id
        self.started = time.monotonic()
        self.cpu: dict[int, float] = {}
        self.cpu_start: dict[int, float] = {}

    async def cpu_of(self, pids: Sequence[int]) -> dict[int, float]:
        times = {pid: psutil.Process(pid).cpu_times() for pid in pids}
        return {pid: t.user + t.system for pid, t in times.items()}

    async def passed(self) -> int:
        """Messages whose request went through (sent, or refused with 403 by a blocked chat)."""
        async with self.db.session() as session:
            counts = await broadcasts.counts(session, self.broadcast_id)
        return counts.get("sent", 0) + counts.get("blocked", 0)

    async def sample(self, pids: Sequence[int] = ()) -> int:
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
                self.cpu[pid] = times.user + times.system
            except psutil.Error:
                pass  # killed: its last sample stands
        return await self.passed()

    async def timing(self, total: int, blocked_share: float = 0.0) -> dict[str, float]:
        """Achieved rate from the rows' sent_at: all messages over the span from the first to the last; and
        the steady rate, over the middle 80 % (blocked chats' refusals count too: they use the budget)."""
        async with self.db.session() as session:
            result = await session.execute(  # type: ignore[deprecated]
                select(col(Message.sent_at)).where(col(Message.kind) == "broadcast",
                                                   col(Message.ref_id) == self.broadcast_id,
                                                   col(Message.sent_at).is_not(None)).order_by(col(Message.sent_at)))
            times = [t for (t,) in result.all()]
        if len(times) < 10:
            return {"busy_seconds": 0.0, "achieved_rate": 0.0, "steady_rate": 0.0}
        span = (times[-1] - times[0]).total_seconds()
        low, high = times[len(times) // 10], times[len(times) * 9 // 10]
        middle = (high - low).total_seconds()
        steady = (len(times) * 9 // 10 - len(times) // 10) / middle / (1 - blocked_share) if middle else 0.0
        return {"busy_seconds": round(span, 2), "achieved_rate": round(total / span, 1) if span else 0.0,
                "steady_rate": round(steady, 1)}


async def first_429(control: ControlClient, started: float) -> float | None:
    """Seconds from the start of the phase to the first 429 (the server's monotonic clock is ours)."""
    refused = [r for r in await control.refused() if r["status"] == 429]
    return round(min(r["at"] for r in refused) - started, 1) if refused else None


async def count_copies(base_url: str, chats: Sequence[int], text: str) -> dict[int, int]:
    """How many copies of `text` each chat holds, from the server's per-chat record."""
    copies: dict[int, int] = {}
    semaphore = asyncio.Semaphore(64)
    async with ClientSession() as session:
        async def one(chat: int) -> None:
            async with semaphore, session.get(f"{base_url}/control/messages", params={"chat_id": str(chat)}) as r:
                messages = (await r.json())["messages"]
                copies[chat] = sum(1 for m in messages if m["text"] == text)

        await asyncio.gather(*(one(chat) for chat in chats))
    return copies


def delivery_summary(copies: dict[int, int], reachable: Sequence[int]) -> dict[str, int]:
    return {"lost": sum(1 for c in reachable if copies.get(c, 0) == 0),
            "duplicates": sum(max(0, copies.get(c, 0) - 1) for c in reachable)}


# Runs `python -m tests.botapi` unchanged, logging its own garbage-collection pauses (a pause holds
# requests back and then handles them in a bunch, which its limiter counts as a burst); with "tuned",
# long-lived objects are frozen and full collections made rarer, so that the server's own pauses do not
# masquerade as the senders' bursts.
_SERVER = """
import gc, runpy, sys, time
started = {}
def watch(phase, info):
    if phase == "start":
        started["t"] = time.perf_counter()
    elif info["generation"] == 2 or time.perf_counter() - started["t"] > 0.005:
        print(f"gc {info['generation']} {1000 * (time.perf_counter() - started['t']):.1f} ms at {time.monotonic():.3f}", file=sys.stderr, flush=True)
gc.callbacks.append(watch)
if sys.argv[1] == "tuned":
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
sys.argv = ["tests.botapi", *sys.argv[2:]]
runpy.run_module("tests.botapi", run_name="__main__", alter_sys=True)
"""


def start_server(limit: float, gc_mode: str, log: Path) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen([PYTHON, "-c", _SERVER, gc_mode, "--global-rate", str(limit), "--chat-rate", "1",
                                "--retry-after", "1"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                               stderr=log.open("w"))
    assert process.stdout is not None
    info = json.loads(process.stdout.readline())
    return process, info["base_url"], info["token"]


def gc_pauses(log: Path) -> dict[str, float]:
    pauses = [float(line.split()[2]) for line in log.read_text().splitlines() if line.startswith("gc ")]
    return {"count_over_5ms_or_full": len(pauses), "max_ms": max(pauses, default=0.0),
            "over_20ms": sum(1 for p in pauses if p > 20)}


class Workers:
    def __init__(self, env: dict[str, str], folder: Path, pace: float) -> None:
        self.env = env
        self.folder = folder
        self.pace = pace
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [EBLAGH, "worker", "--name", name, "--concurrency", "16", "--claim-timeout", "10",
             "--sweep-interval", "0.5", "--duty-interval", "5", "--metrics-file", str(self.folder / f"{name}.json"),
             "--pace", str(self.pace)],
            cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    async def wait_started(self, limit_seconds: float = 60.0) -> None:
        """Until every running worker has logged that it started (imports and connections done)."""
        deadline = time.monotonic() + limit_seconds
        while time.monotonic() < deadline:
            logs = [(self.folder / f"{name}.log").read_text(errors="replace") for name in self.alive()]
            if all(" started on " in text for text in logs):
                await asyncio.sleep(0.5)
                return
            await asyncio.sleep(0.2)
        raise TimeoutError("workers did not start")

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes.values()]

    def alive(self) -> list[str]:
        return [n for n, p in self.processes.items() if p.poll() is None]

    def stop_all(self) -> dict[str, int | None]:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        return {name: process.wait(timeout=60) for name, process in self.processes.items()}

    def metrics(self) -> dict[str, Any]:
        found = {}
        for name in self.processes:
            path = self.folder / f"{name}.json"
            if path.exists():
                found[name] = json.loads(path.read_text())
        return found


async def create_broadcast(env: dict[str, str], text: str, segment: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        EBLAGH, "broadcast", "create", "--text", text, "--segment", segment, "--json",
        env=env, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    assert process.returncode == 0, out
    return dict(json.loads(out))


async def wait_until(check: Callable[[], Any], monitor: Monitor, pids: Callable[[], list[int]],
                     limit_seconds: float, on_sample: Callable[[int], Any] | None = None) -> bool:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        passed = await monitor.sample(pids())
        if on_sample is not None:
            await on_sample(passed)
        if await check():
            await monitor.sample(pids())
            return True
        await asyncio.sleep(0.2)
    return False


async def eblagh_phases(args: argparse.Namespace, base_url: str, token: str, control: ControlClient,
                        database_url: str, folder: Path) -> dict[str, Any]:
    db = Database(database_url)
    steady_chats = list(range(1_000_001, 1_000_001 + args.messages))
    chats = list(range(2_000_001, 2_000_001 + args.messages))
    blocked = set(chats[::100]) | set(steady_chats[::100])
    wipe_chats = list(range(3_000_001, 3_000_001 + args.wipe_messages))
    wipe_blocked = set(wipe_chats[::50])
    await control.add_users(steady_chats + chats + wipe_chats)
    for chat in sorted(blocked | wipe_blocked):
        await control.block(chat)
    await seed_subscribers(db, steady_chats, district=4)
    await seed_subscribers(db, chats, district=5)
    await seed_subscribers(db, wipe_chats, district=7)
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "SECRET_KEY": SECRET.decode(),
           "BOT_TOKEN": token, "BOT_API_BASE": base_url, "PLATFORM": "telegram",
           "DELIVERY_RATE": str(args.limit), "DELIVERY_CHAT_RATE": "1", "PYTHONPATH": str(ROOT)}
    service = BroadcastService(db, system_clock)
    client = redis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    workers = Workers(env, folder, args.pace)
    result: dict[str, Any] = {}

    async def finished(broadcast_id: int) -> bool:
        progress = await service.status(broadcast_id)
        return progress is not None and progress.pending == 0

    async def phase(segment: str, phase_chats: list[int], kill: bool) -> dict[str, Any]:
        await asyncio.sleep(1.5)  # the previous phase's per-chat windows have passed
        await control.reset_stats()
        text = f"اطلاعیه {segment} — {uuid.uuid4().hex[:6]}"
        cpu_start = await Monitor(db, 0).cpu_of(workers.pids)
        created = await create_broadcast(env, text, segment)
        monitor = Monitor(db, created["id"])
        monitor.cpu_start = cpu_start
        killed: dict[str, Any] = {}

        async def kill_when_due(passed: int) -> None:
            if kill and not killed and passed >= args.kill_at * args.messages:
                victim = workers.processes["w1"]
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                # Claimed and not recorded as done, by any worker, right after the kill: an upper bound
                # of what the killed one had in flight (sent or not), the only messages that may repeat.
                async with db.session() as session:
                    counts = await broadcasts.counts(session, created["id"])
                killed.update({"worker": "w1", "at_messages": passed, "in_flight_all_workers": counts.get("sending", 0),
                               "at_s": round(time.monotonic() - started, 1)})

        started = time.monotonic()
        done = await wait_until(lambda: finished(created["id"]), monitor, lambda: workers.pids, args.timeout,
                                kill_when_due)
        elapsed = time.monotonic() - started
        stats = await control.stats()
        progress = await service.status(created["id"])
        assert progress is not None
        copies = await count_copies(base_url, phase_chats, text)
        phase_blocked = [c for c in phase_chats if c in blocked]
        reachable = [c for c in phase_chats if c not in blocked]
        passed_total = await monitor.passed()
        cpu = sum(monitor.cpu.values()) - sum(monitor.cpu_start.values())
        timing = await monitor.timing(passed_total, len(phase_blocked) / len(phase_chats))
        return {
            "messages": args.messages, "blocked_chats": len(phase_blocked), "workers": args.workers,
            "limit": args.limit, "pace": args.pace, "finished": done, "seconds": round(elapsed, 1), **timing,
            "rate_over_limit": round(timing["achieved_rate"] / args.limit, 3),
            "steady_rate_over_limit": round(timing["steady_rate"] / args.limit, 3),
            "http_429": int(stats["rate_limited"]), "first_429_s": await first_429(control, monitor.started),
            **({"killed": killed} if kill else {}),
            **delivery_summary(copies, reachable),
            "status": progress.as_json(),
            "status_exact": progress.sent == len(reachable) and progress.blocked == len(phase_blocked),
            "cpu_seconds_per_message": round(cpu / max(passed_total, 1), 5),
        }

    # Workers are long-lived: start them first, and measure from the moment they are up.
    for index in range(args.workers):
        workers.start(f"w{index + 1}")
    await workers.wait_started()
    result["steady"] = await phase("district:4", steady_chats, kill=False)
    result["broadcast"] = await phase("district:5", chats, kill=True)
    result["recovery"] = {
        "seconds_without_kill": result["steady"]["seconds"], "seconds_with_kill": result["broadcast"]["seconds"],
        "recovery_s": round(result["broadcast"]["seconds"] - result["steady"]["seconds"], 1),
        "duplicates": result["broadcast"]["duplicates"], "lost": result["broadcast"]["lost"]}

    # Back to full strength, a broadcast, Redis wiped half way.
    workers.start("w4")
    await workers.wait_started()
    if args.wipe_messages:
        await control.reset_stats()
        text = f"اطلاعیه شماره ۲ — {uuid.uuid4().hex[:6]}"
        created = await create_broadcast(env, text, "district:7")
        monitor = Monitor(db, created["id"])
        wiped: dict[str, Any] = {}

        async def wipe_when_due(passed: int) -> None:
            if not wiped and passed >= 0.5 * args.wipe_messages:
                await client.flushdb()
                wiped["at_messages"] = passed

        started = time.monotonic()
        done = await wait_until(lambda: finished(created["id"]), monitor, lambda: workers.pids, args.timeout,
                                wipe_when_due)
        elapsed = time.monotonic() - started
        stats = await control.stats()
        progress = await service.status(created["id"])
        assert progress is not None
        copies = await count_copies(base_url, wipe_chats, text)
        reachable = [c for c in wipe_chats if c not in wipe_blocked]
        result["redis_wipe"] = {
            "messages": args.wipe_messages, "blocked_chats": len(wipe_blocked), "workers": len(workers.alive()),
            "finished": done, "seconds": round(elapsed, 1), "wiped": wiped,
            **await monitor.timing(await monitor.passed()),
            "http_429": int(stats["rate_limited"]), "first_429_s": await first_429(control, monitor.started),
            **delivery_summary(copies, reachable),
            "status": progress.as_json(),
            "status_exact": progress.sent == len(reachable) and progress.blocked == len(wipe_blocked),
        }
    result["exit_statuses"] = workers.stop_all()
    result["worker_metrics"] = workers.metrics()
    await client.flushdb()
    await client.aclose()
    await db.close()
    return result


async def ptb_baseline(args: argparse.Namespace, base_url: str, token: str, control: ControlClient,
                       chats: list[int]) -> dict[str, Any]:
    from telegram.error import TelegramError
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    limiter = AIORateLimiter(overall_max_rate=args.limit, overall_time_period=1, max_retries=5)
    bot: ExtBot[None] = ExtBot(token, base_url=f"{base_url}/bot", rate_limiter=limiter,
                               request=HTTPXRequest(connection_pool_size=128))
    await bot.initialize()
    text = f"ptb {uuid.uuid4().hex[:6]}"
    errors = 0
    semaphore = asyncio.Semaphore(128)

    async def one(chat: int, done: list[float]) -> None:
        nonlocal errors
        async with semaphore:
            try:
                await bot.send_message(chat, text)
                done.append(time.monotonic())
            except TelegramError:
                errors += 1

    return await _baseline(control, base_url, chats, text,
                           lambda done: asyncio.gather(*(one(c, done) for c in chats)),
                           args.limit, bot.shutdown, lambda: errors)


async def plain_baseline(args: argparse.Namespace, base_url: str, token: str, control: ControlClient,
                         chats: list[int]) -> dict[str, Any]:
    from aiogram.exceptions import TelegramAPIError

    from bot.messengers.aiogram_adapter import build_bot

    bot = build_bot(token, base_url)
    text = f"plain {uuid.uuid4().hex[:6]}"
    errors = 0

    async def loop(done: list[float]) -> None:
        nonlocal errors
        for chat in chats:
            try:
                await bot.send_message(chat, text)
                done.append(time.monotonic())
            except TelegramAPIError:
                errors += 1
            await asyncio.sleep(1 / args.limit)

    return await _baseline(control, base_url, chats, text, loop, args.limit, bot.session.close, lambda: errors)


async def _baseline(control: ControlClient, base_url: str, chats: list[int], text: str,
                    run: Callable[[list[float]], Any], limit: float, close: Callable[[], Any],
                    errors: Callable[[], int]) -> dict[str, Any]:
    await asyncio.sleep(1.5)  # the previous phase's per-chat windows and penalties have passed
    await control.reset_stats()
    me = psutil.Process()
    cpu_before = me.cpu_times().user + me.cpu_times().system
    done: list[float] = []  # when each accepted send returned
    started = time.monotonic()
    await run(done)
    elapsed = time.monotonic() - started
    cpu = me.cpu_times().user + me.cpu_times().system - cpu_before
    await close()
    stats = await control.stats()
    copies = await count_copies(base_url, chats, text)
    span = max(done) - min(done) if len(done) > 1 else 0.0
    rate = (len(done) - 1) / span if span else 0.0
    return {"messages": len(chats), "seconds": round(elapsed, 1), "busy_seconds": round(span, 2),
            "achieved_rate": round(rate, 1), "rate_over_limit": round(rate / limit, 3),
            "http_429": int(stats["rate_limited"]), "first_429_s": await first_429(control, started),
            "gave_up": errors(), **delivery_summary(copies, chats),
            "cpu_seconds_per_message": round(cpu / max(len(done), 1), 5)}


_IDLE_ROWS = [
    "INSERT INTO citizens (nid_hash, nid_masked, mobile_hash, mobile_masked, full_name, district, created_at, "
    "updated_at) SELECT 'idle-' || g, '000****000', 'm' || g, '0912***0000', '', 5, now(), now() "
    "FROM generate_series(1, {citizens}) g",
    "INSERT INTO chat_bindings (citizen_id, platform, chat_id, user_id, active, bound_at, fanned_out_at) "
    "SELECT id, 'telegram', 9000000000 + id, 9000000000 + id, true, now(), now() FROM citizens",
    "INSERT INTO cases (case_number, citizen_id, status, district, address, violation, created_at, updated_at) "
    "SELECT 'I' || id, id, 'ruling_issued', 5, '', '', now(), now() FROM citizens",
    "INSERT INTO rulings (ruling_id, case_id, citizen_id, commission, kind, issued_on, summary, text, created_at) "
    "SELECT 'IR' || g, 1 + g % {citizens}, 1 + g % {citizens}, 'first', 'fine', DATE '2025-01-20', '', '', now() "
    "FROM generate_series(1, {notices}) g",
    # Half delivered yesterday (not yet due for a reminder), half with a message to retry tomorrow.
    "INSERT INTO notices (ruling_pk, citizen_id, created_at, first_delivered_at, fanned_out_at) "
    "SELECT id, citizen_id, now(), CASE WHEN id % 2 = 0 THEN now() - interval '1 day' END, now() FROM rulings",
    "INSERT INTO messages (lane, kind, ref_id, platform, chat_id, status, attempts, created_at, next_attempt_at, "
    "sent_at, message_id) SELECT 'messenger', 'notice', id, 'telegram', 9000000000 + citizen_id, "
    "CASE WHEN id % 2 = 0 THEN 'sent' ELSE 'queued' END, 1, now(), "
    "CASE WHEN id % 2 = 0 THEN now() - interval '1 day' ELSE now() + interval '1 day' END, "
    "CASE WHEN id % 2 = 0 THEN now() - interval '1 day' END, id FROM notices",
    "ANALYZE",
]


async def idle_phase(args: argparse.Namespace, base_url: str, token: str, folder: Path) -> dict[str, Any]:
    """A large database at rest: one idle sweeper pass, one pass of the timed duties, an idle worker's CPU."""
    from bot.engine import EngineOptions, build_engine, open_backends
    from bot.messengers import build_messenger
    from bot.runtime import Runtime
    from bot.settings import Settings
    from services.privacy import Hasher

    name, url = await create_database()
    try:
        await asyncio.to_thread(upgrade, url)
        conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database=name)
        started = time.monotonic()
        for statement in _IDLE_ROWS:
            await conn.execute(statement.format(citizens=max(args.notices // 10, 1), notices=args.notices))
        counts = {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in ("notices", "messages")}
        await conn.close()
        written = time.monotonic() - started
        env = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "SECRET_KEY": SECRET.decode(), "BOT_TOKEN": token,
               "BOT_API_BASE": base_url, "PLATFORM": "telegram", "DELIVERY_RATE": str(args.limit)}
        settings = Settings(_env_file=None, **env)  # type: ignore[arg-type, call-arg]
        db = Database(url)
        runtime = Runtime(settings, db, Hasher(SECRET))
        client = redis.Redis.from_url(REDIS_URL)
        await client.flushdb()
        sender = build_messenger(settings)
        options = EngineOptions(name="bench-idle")
        backends = open_backends(runtime, options)
        engine = build_engine(runtime, sender, backends, options=options)
        await engine.sweeper.sweep()  # connections opened, plans cached
        sweeps = []
        for _ in range(20):
            began = time.perf_counter()
            stats = await engine.sweeper.sweep()
            sweeps.append((time.perf_counter() - began) * 1000)
            assert not (stats.created or stats.queued or stats.released), stats
        duties = []
        for _ in range(5):
            began = time.perf_counter()
            await engine.run_jobs_once()
            duties.append((time.perf_counter() - began) * 1000)
        await backends.close()
        await sender.close()  # type: ignore[attr-defined]
        await db.close()

        idle = Workers({**os.environ, **env, "PYTHONPATH": str(ROOT)}, folder, args.pace)
        idle.start("idle")
        try:
            await idle.wait_started()
            await asyncio.sleep(3)  # the first passes (connections, plans) are not idle
            process = psutil.Process(idle.pids[0])
            before, began = process.cpu_times(), time.monotonic()
            await asyncio.sleep(args.idle_seconds)
            after, span = process.cpu_times(), time.monotonic() - began
        finally:
            idle.stop_all()
        cpu = (after.user + after.system - before.user - before.system) / span
        await client.flushdb()
        await client.aclose()
        sweeps.sort()
        return {"notices": counts["notices"], "messages": counts["messages"], "rows_written_s": round(written, 1),
                "sweeper_pass_ms": {"median": round(sweeps[len(sweeps) // 2], 2), "max": round(sweeps[-1], 2)},
                "duties_pass_ms": {"median": round(sorted(duties)[len(duties) // 2], 2)},
                "idle_worker_cpu_percent_of_a_core": round(cpu * 100, 2), "idle_seconds": args.idle_seconds}
    finally:
        await drop_database(name)


async def create_database() -> tuple[str, str]:
    name = f"eblagh_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name, f"postgresql://postgres@127.0.0.1:5432/{name}"


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    server_log = Path(tempfile.mkstemp(prefix="eblagh-bench-server-", suffix=".log")[1])
    server, base_url, token = start_server(args.limit, args.server_gc, server_log)
    name, url = await create_database()
    try:
        await asyncio.to_thread(upgrade, url)
        with tempfile.TemporaryDirectory(prefix="eblagh-bench-") as temporary:
            folder = args.logs or temporary
            Path(folder).mkdir(parents=True, exist_ok=True)
            async with ControlClient(base_url) as control:
                result: dict[str, Any] = {
                    "server": {"global_per_second": args.limit, "chat_per_second": 1, "retry_after": 1,
                               "implementation": "tests.botapi (loopback, separate process)",
                               "gc": args.server_gc}}
                result.update(await eblagh_phases(args, base_url, token, control, url, Path(folder)))
                if args.notices:
                    result["idle"] = await idle_phase(args, base_url, token, Path(folder))
                if args.baseline_messages:
                    chats = [c for c in range(2_000_001, 2_000_001 + args.baseline_messages) if (c - 2_000_001) % 100]
                    result["ptb_aioratelimiter"] = await ptb_baseline(args, base_url, token, control, chats)
                    result["plain_loop_fixed_sleep"] = await plain_baseline(args, base_url, token, control, chats)
                result["server"]["gc_pauses"] = gc_pauses(server_log)
        return result
    finally:
        server.terminate()
        server.wait(timeout=10)
        await drop_database(name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--limit", type=float, default=300.0, help="messages a second the server allows")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-at", type=float, default=0.3)
    parser.add_argument("--wipe-messages", type=int, default=4_000)
    parser.add_argument("--baseline-messages", type=int, default=6_000)
    parser.add_argument("--notices", type=int, default=1_000_000, help="notices in the idle phase")
    parser.add_argument("--idle-seconds", type=float, default=15.0, help="how long the idle worker's CPU is measured")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--pace", type=float, default=0.98, help="the workers' share of the limit they book")
    parser.add_argument("--logs", help="keep the workers' logs and counts in this folder")
    parser.add_argument("--server-gc", choices=("default", "tuned"), default="tuned",
                        help="the fake server's garbage collector: as is, or tuned against long pauses")
    print(json.dumps(asyncio.run(main(parser.parse_args())), ensure_ascii=False, indent=1))
