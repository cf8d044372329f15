"""Conversation benchmark: one `eblagh run` answering bound citizens' questions; one JSON object.

    python bench/conversation.py [--citizens 1000] [--rate 25] [--seconds 20] [--backends sqlite,postgres]
                                 [--framework aiogram|ptb] [--baseline PATH] [--repeat 1] [--memory]

For each backend (SQLite; PostgreSQL + Redis) a fresh database gets `--citizens` citizens, each bound
to a private chat and with one case, a first-instance fine ruling and its delivered notice. The loopback
Bot API (tests/botapi, in this process, no rate limit) feeds `eblagh run` (a child process, long
polling) questions in Persian as citizens type them, and notes when each reply arrives:

1. latency: questions at `--rate` a second for `--seconds` (open loop, citizens in turn): reply latency
   p50/p99 (question queued at the server -> first reply stored there);
2. throughput: `--concurrency` questions always outstanding for `--seconds`: answers a second, and CPU
   ms per answer (user + system time of the `eblagh run` process over the phase / answers).
   A chat never asks more than the flood limit allows (services/flood.py: 20 a minute; the driver
   keeps each chat under 18), so no question meets the slow-down note.

Peak RSS of `eblagh run` is its VmHWM at the end. With `--memory`, the peak RSS of `eblagh worker` and
`eblagh web` (started, idle for a few seconds, stopped) and what the big imports cost on their own.

`--baseline PATH` runs the same scenarios first from another checkout (e.g. `git archive BASE | tar -x
-C PATH`), with this checkout's bench, server and seed, so the comparison is side by side in one run.
`--repeat N` runs each scenario N times and reports the median of each figure (and every run).
Figures the issue quotes (1,000 citizens asking at once, before this work) are printed beside.
Needs PostgreSQL and Redis on 127.0.0.1 for the postgres backend; uses Redis database `--redis-db`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", category=DeprecationWarning)  # sqlmodel's note on session.execute
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project first: bench/nlp.py would shadow the nlp package

import psutil  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from handlers.texts import SOMETHING_WENT_WRONG  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import Case, DeliveryStatus, LaneName, Message, MessageKind, Notice, Ruling  # noqa: E402
from tests.botapi import FakeBotAPI  # noqa: E402
from tests.botapi.records import ChatMessage  # noqa: E402
from tests.delivery_kit import SECRET, seed_subscribers  # noqa: E402

PYTHON = sys.executable
FIRST_CHAT = 5_000_001
# The issue's figures: 1,000 bound citizens asking at once, one `eblagh run`, before this work.
ISSUE = {"sqlite": {"answers_per_second": 60, "cpu_ms_per_answer": "17-18"},
         "postgres": {"answers_per_second": 95, "cpu_ms_per_answer": "~10"}}
TARGETS = {"cpu_ms_per_answer": {"sqlite": 8.0, "postgres": 5.0}, "reply_p99_ms_at_25_per_second": 50.0}
# Questions as citizens type them, each answered by one message (one case per citizen).
QUESTIONS = ("جریمه من چقدره؟", "مهلت اعتراضم کی تموم میشه", "پروندم به کجا رسید", "رای پرونده من چیه؟",
             "جلسه رسیدگی کیه", "چطوری جریمه رو پرداخت کنم؟", "وضعیت پرونده ام چیه", "تا کی میتونم اعتراض کنم")
FLOOD_BUDGET = 18  # questions a chat may ask within a minute (the bot's limit is 20)
RUN = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
# `--profile DIR`: the same under pyinstrument (wall clock, main thread), its text report kept in DIR.
PROFILED = """
import os, sys, pyinstrument
from bot.cli import main
profiler = pyinstrument.Profiler(interval=0.0005)
profiler.start()
try:
    status = main(sys.argv[1:])
finally:
    profiler.stop()
    with open(os.environ["EBLAGH_BENCH_PROFILE"], "w") as out:
        out.write(profiler.output_text(unicode=True, show_all=False))
    profiler.last_session.save(os.environ["EBLAGH_BENCH_PROFILE"] + ".pyisession")
sys.exit(status)
"""


class TimedBotAPI(FakeBotAPI):
    """The fake Bot API, noting when each bot message to a chat is stored (its reply clock)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.waiting: dict[int, collections.deque[tuple[float, asyncio.Future[float]]]] = {}

    def _store(self, message: ChatMessage) -> ChatMessage:
        stored = super()._store(message)
        if message.from_bot:
            pending = self.waiting.get(message.chat_id)
            if pending:
                _, future = pending.popleft()
                if not future.done():
                    future.set_result(time.monotonic())
        return stored

    def ask(self, chat_id: int, text: str) -> asyncio.Future[float]:
        """Queue a question; the future gets the monotonic time of the chat's next bot message."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(chat_id, collections.deque()).append((time.monotonic(), future))
        self.send_text(chat_id, text)
        return future


@dataclass
class Chats:
    """Citizens' chats in turn, each kept under the flood limit and with one question at a time."""

    ids: list[int]
    asked: dict[int, collections.deque[float]] = field(default_factory=dict)
    busy: set[int] = field(default_factory=set)
    next_index: int = 0

    def take(self) -> int | None:
        now = time.monotonic()
        for _ in range(len(self.ids)):
            chat = self.ids[self.next_index]
            self.next_index = (self.next_index + 1) % len(self.ids)
            times = self.asked.setdefault(chat, collections.deque())
            while times and times[0] < now - 61:
                times.popleft()
            if chat not in self.busy and len(times) < FLOOD_BUDGET:
                times.append(now)
                self.busy.add(chat)
                return chat
        return None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def seed(db: Database, chats: list[int]) -> None:
    """One citizen a chat, bound; one case each with a first-instance fine ruling, delivered 2 days ago."""
    citizen_ids = await seed_subscribers(db, chats, district=5)
    now = datetime.now(UTC)
    delivered = now - timedelta(days=2)
    async with db.session() as session:
        await session.execute(insert(Case), [  # type: ignore[deprecated]
            {"case_number": f"1403{index:06d}", "citizen_id": cid, "status": "ruling_issued", "district": 5,
             "address": "خیابان آزمایش، پلاک ۱", "violation": "اضافه اشکوب", "created_at": now, "updated_at": now}
            for index, cid in enumerate(citizen_ids)])
        cases = dict((await session.execute(select(Case.citizen_id, Case.id))).all())  # type: ignore[deprecated, call-overload]
        await session.execute(insert(Ruling), [  # type: ignore[deprecated]
            {"ruling_id": f"R-{index:06d}", "case_id": cases[cid], "citizen_id": cid, "commission": "first",
             "kind": "fine", "issued_on": date.today() - timedelta(days=5), "fine_amount_rials": 1_250_000_000,
             "summary": "جریمه اضافه اشکوب", "text": "متن کامل رأی", "created_at": now}
            for index, cid in enumerate(citizen_ids)])
        rulings = dict((await session.execute(select(Ruling.citizen_id, Ruling.id))).all())  # type: ignore[deprecated, call-overload]
        await session.execute(insert(Notice), [  # type: ignore[deprecated]
            {"ruling_pk": rulings[cid], "citizen_id": cid, "created_at": now, "first_delivered_at": delivered,
             "fanned_out_at": delivered} for cid in citizen_ids])
        notices = dict((await session.execute(select(Notice.citizen_id, Notice.id))).all())  # type: ignore[deprecated, call-overload]
        await session.execute(insert(Message), [  # type: ignore[deprecated]
            {"lane": LaneName.MESSENGER.value, "kind": MessageKind.NOTICE.value, "ref_id": notices[cid],
             "platform": "telegram", "chat_id": chat, "status": DeliveryStatus.SENT.value, "attempts": 1,
             "message_id": 1, "created_at": delivered, "next_attempt_at": delivered, "sent_at": delivered}
            for cid, chat in zip(citizen_ids, chats, strict=True)])


async def create_pg_database() -> tuple[str, str]:
    import asyncpg

    name = f"eblagh_conv_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name, f"postgresql://postgres@127.0.0.1:5432/{name}"


async def drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def flush_redis(url: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


def eblagh(tree: Path, env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    code = PROFILED if "EBLAGH_BENCH_PROFILE" in env else RUN
    return subprocess.Popen([PYTHON, "-c", code, *args], cwd=tree, env={**env, "PYTHONPATH": str(tree)},
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def upgrade_schema(tree: Path, env: dict[str, str], log: Path) -> None:
    process = eblagh(tree, env, "db", "upgrade", log=log)
    if process.wait(timeout=120) != 0:
        raise RuntimeError(f"db upgrade failed: {log.read_text()[-2000:]}")


async def ask_and_wait(api: TimedBotAPI, chat: int, text: str, timeout: float) -> float | None:  # noqa: ASYNC109
    """Seconds from the question to the first reply; None when none came in time."""
    started = time.monotonic()
    try:
        answered = await asyncio.wait_for(api.ask(chat, text), timeout)
    except TimeoutError:
        return None
    return answered - started


async def latency_phase(api: TimedBotAPI, chats: Chats, rate: float, seconds: float,
                        process: psutil.Process) -> dict[str, Any]:
    latencies: list[float] = []
    lost = 0

    async def one(chat: int, text: str) -> None:
        nonlocal lost
        took = await ask_and_wait(api, chat, text, 10.0)
        chats.busy.discard(chat)
        if took is None:
            lost += 1
        else:
            latencies.append(took)

    tasks = []
    cpu_before = cpu_seconds(process)
    started = time.monotonic()
    count = int(rate * seconds)
    for index in range(count):
        due = started + index / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        chat = chats.take()
        if chat is None:
            continue
        tasks.append(asyncio.create_task(one(chat, QUESTIONS[index % len(QUESTIONS)])))
    await asyncio.gather(*tasks)
    cpu = cpu_seconds(process) - cpu_before
    return {"questions": len(tasks), "answered": len(latencies), "unanswered": lost,
            "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
            "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
            "max_ms": round(1000 * max(latencies, default=float("nan")), 1),
            "cpu_ms_per_answer": round(1000 * cpu / max(len(latencies), 1), 2)}


async def throughput_phase(api: TimedBotAPI, chats: Chats, concurrency: int, seconds: float,
                           process: psutil.Process) -> dict[str, Any]:
    answered = 0
    lost = 0
    starved = 0
    deadline = time.monotonic() + seconds

    async def asker(slot: int) -> None:
        nonlocal answered, lost, starved
        index = slot
        while time.monotonic() < deadline:
            chat = chats.take()
            if chat is None:
                starved += 1
                await asyncio.sleep(0.05)
                continue
            took = await ask_and_wait(api, chat, QUESTIONS[index % len(QUESTIONS)], 15.0)
            chats.busy.discard(chat)
            index += concurrency
            if took is None:
                lost += 1
            elif time.monotonic() <= deadline:
                answered += 1

    cpu_before = cpu_seconds(process)
    started = time.monotonic()
    await asyncio.gather(*(asker(slot) for slot in range(concurrency)))
    # Answers counted up to the deadline; CPU over the same span (what finished after it is excluded).
    elapsed = min(time.monotonic(), deadline) - started
    cpu = cpu_seconds(process) - cpu_before
    return {"concurrency": concurrency, "seconds": round(elapsed, 1), "answered": answered, "unanswered": lost,
            "answers_per_second": round(answered / elapsed, 1),
            "cpu_ms_per_answer": round(1000 * cpu / max(answered, 1), 2), "flood_starved": starved}


async def scenario(tree: Path, backend: str, args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    chat_ids = list(range(FIRST_CHAT, FIRST_CHAT + args.citizens))
    with tempfile.TemporaryDirectory(prefix="eblagh-conv-") as temporary:
        folder = Path(temporary)
        pg_name = None
        if backend == "postgres":
            pg_name, url = await create_pg_database()
            redis_url: str | None = f"redis://127.0.0.1:6379/{args.redis_db}"
            await flush_redis(str(redis_url))
        else:
            url, redis_url = f"sqlite:///{folder}/eblagh.db", None
        try:
            async with TimedBotAPI(platform="telegram") as api:
                env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "WEBHOOK_URL")}
                env.update(DATABASE_URL=url, SECRET_KEY=SECRET.decode(), BOT_TOKEN=api.token,
                           BOT_API_BASE=api.base_url, PLATFORM="telegram", BOT_FRAMEWORK=args.framework,
                           DATA_DIR=str(folder / "data"))
                if redis_url:
                    env["REDIS_URL"] = redis_url
                (folder / "data").mkdir(mode=0o700)
                (folder / "data" / "cache").symlink_to(cache)  # the intent model, trained once
                upgrade_schema(tree, env, folder / "upgrade.log")
                db = Database(url)
                await seed(db, chat_ids)
                await db.close()
                for chat in chat_ids:
                    api.add_user(chat)
                log = folder / "run.log"
                run_env = env
                if args.profile:
                    Path(args.profile).mkdir(parents=True, exist_ok=True)
                    run_env = {**env, "EBLAGH_BENCH_PROFILE": str(Path(args.profile).resolve() /
                                                                  f"{tree.name}-{backend}-{uuid.uuid4().hex[:4]}.txt")}
                process = eblagh(tree, run_env, "run", "--poll-timeout", "5", log=log)
                try:
                    watched = psutil.Process(process.pid)
                    chats = Chats(chat_ids)
                    started = time.monotonic()
                    first = await ask_and_wait(api, chat_ids[0], QUESTIONS[0], 120.0)
                    if first is None:
                        raise RuntimeError(f"eblagh run never answered: {log.read_text()[-3000:]}")
                    startup = time.monotonic() - started
                    await latency_phase(api, chats, args.rate, 3.0, watched)  # warm-up, not reported
                    load_before = os.getloadavg()
                    latency = await latency_phase(api, chats, args.rate, args.seconds, watched)
                    spy = _py_spy(args, process.pid, f"{tree.name}-{backend}")
                    throughput = await throughput_phase(api, chats, args.concurrency, args.seconds, watched)
                    if spy is not None:
                        spy.wait(timeout=60)
                    load_after = os.getloadavg()
                    rss = peak_rss_mb(process.pid)
                    errors = sum(1 for chat in chat_ids for m in api.messages(chat)
                                 if m.from_bot and m.text == SOMETHING_WENT_WRONG)
                finally:
                    status = await stop(process, 180 if args.profile else 60, log)
                return {"first_answer_s": round(startup, 1), "latency": latency, "throughput": throughput,
                        "peak_rss_mb": rss, "error_replies": errors, "exit_status": status,
                        "loadavg_1m": [round(load_before[0], 2), round(load_after[0], 2)]}
        finally:
            if pg_name:
                await drop_pg_database(pg_name)


def _py_spy(args: argparse.Namespace, pid: int, name: str) -> subprocess.Popen[bytes] | None:
    """`--py-spy DIR`: sample the throughput phase (CPU only, every thread) as collapsed stacks."""
    if not args.py_spy:
        return None
    folder = Path(args.py_spy).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([str(Path(PYTHON).with_name("py-spy")), "record", "--pid", str(pid), "--format", "raw",
                             "--rate", "250", "--nonblocking", "--duration", str(int(args.seconds)),
                             "-o", str(folder / f"{name}-{uuid.uuid4().hex[:4]}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def idle_peak(tree: Path, command: list[str], env: dict[str, str], folder: Path, settle: float) -> float:
    """Peak RSS (MB) of an `eblagh` command left idle for `settle` seconds after start."""
    log = folder / f"{command[0]}.log"
    process = eblagh(tree, env, *command, log=log)
    try:
        await asyncio.sleep(settle)
        if process.poll() is not None:
            raise RuntimeError(f"eblagh {command[0]} stopped: {log.read_text()[-2000:]}")
        return peak_rss_mb(process.pid)
    finally:
        if process.poll() is None:
            await stop(process, 30, log)


async def stop(process: subprocess.Popen[bytes], grace: float, log: Path) -> int:
    """SIGTERM, then its exit status; waited for without blocking the loop, which serves its Bot API."""
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while (status := process.poll()) is None:
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"eblagh did not stop: {log.read_text()[-3000:]}")
        await asyncio.sleep(0.05)
    return status


IMPORTS = {"aiogram": "import aiogram, aiogram.client.session.aiohttp",
           "python-telegram-bot": "import telegram, telegram.ext",
           "hazm": "import hazm",
           "scikit-learn": "import sklearn.svm, sklearn.feature_extraction.text",
           "finglish word list (nlp.finglish warm_up)": "import nlp.finglish as f; f.warm_up()",
           "intent model (IntentModel.load, cached)": "CACHE",
           "fastapi": "import fastapi",
           "sqlalchemy + sqlmodel + drivers": "import sqlmodel, aiosqlite, asyncpg, sqlalchemy.ext.asyncio"}


def import_costs(tree: Path, cache: Path) -> dict[str, float]:
    """Resident memory each import (or load) adds to a bare interpreter, on its own (MB)."""
    costs = {}
    for name, statement in IMPORTS.items():
        if statement == "CACHE":
            statement = (f"from pathlib import Path; from nlp import IntentModel; "
                         f"m = IntentModel.load(cache_dir=Path({str(cache)!r})); m.analyze('سلام')")
        code = ("import sys\n"
                "def rss():\n"
                "    line = next(l for l in open('/proc/self/status') if l.startswith('VmRSS:'))\n"
                "    return int(line.split()[1]) / 1024\n"
                "base = rss()\n"
                f"{statement}\n"
                "print('RSS', rss() - base, file=sys.stderr)")
        out = subprocess.run([PYTHON, "-c", code], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                             capture_output=True, text=True, timeout=120)
        found = [line.split()[1] for line in out.stderr.splitlines() if line.startswith("RSS ")]
        costs[name] = round(float(found[-1]), 1) if out.returncode == 0 and found else float("nan")
    return costs


async def memory(tree: Path, cache: Path, settle: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="eblagh-mem-") as temporary:
        folder = Path(temporary)
        async with TimedBotAPI(platform="telegram") as api:
            env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "WEBHOOK_URL")}
            port = _free_port()
            env.update(DATABASE_URL=f"sqlite:///{folder}/eblagh.db", SECRET_KEY=SECRET.decode(),
                       BOT_TOKEN=api.token, BOT_API_BASE=api.base_url, PLATFORM="telegram",
                       DATA_DIR=str(folder / "data"), WEB_LISTEN=f"127.0.0.1:{port}")
            (folder / "data").mkdir(mode=0o700)
            (folder / "data" / "cache").symlink_to(cache)
            upgrade_schema(tree, env, folder / "upgrade.log")
            peaks = {}
            for command in (["run"], ["worker"], ["web"]):
                peaks[" ".join(command)] = await idle_peak(tree, command, env, folder, settle)
            peaks["run (BOT_FRAMEWORK=ptb)"] = await idle_peak(tree, ["run"], {**env, "BOT_FRAMEWORK": "ptb"},
                                                               folder, settle)
        return {"peak_rss_mb": peaks, "import_cost_mb": import_costs(tree, cache)}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every number across runs (nested dicts alike); the rest from the first run."""
    first = runs[0]
    merged: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, dict):
            merged[key] = median_of([run[key] for run in runs])
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = round(statistics.median(run[key] for run in runs), 2)
        else:
            merged[key] = value
    return merged


def verdict(result: dict[str, Any], backend: str) -> dict[str, Any]:
    cpu = result["throughput"]["cpu_ms_per_answer"]
    p99 = result["latency"]["p99_ms"]
    return {"cpu_ms_per_answer": cpu, "target": TARGETS["cpu_ms_per_answer"][backend],
            "cpu_met": cpu <= TARGETS["cpu_ms_per_answer"][backend],
            "p99_ms": p99, "p99_target": TARGETS["reply_p99_ms_at_25_per_second"],
            "p99_met": p99 < TARGETS["reply_p99_ms_at_25_per_second"]}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    trees = ([("baseline", Path(args.baseline).resolve())] if args.baseline else []) + [("current", ROOT)]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    cache = Path(tempfile.mkdtemp(prefix="eblagh-conv-model-"))
    result: dict[str, Any] = {
        "setup": {"citizens": args.citizens, "rate": args.rate, "seconds": args.seconds,
                  "concurrency": args.concurrency, "framework": args.framework, "repeat": args.repeat,
                  "cpus": os.cpu_count(), "server": "tests.botapi in the bench process, no rate limit",
                  "trees": {name: str(path) for name, path in trees}},
        "issue_figures": ISSUE, "targets": TARGETS}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {name: {b: [] for b in backends} for name, _ in trees}
    # Interleaved (baseline, current, baseline, current...) so a change in the machine's load hits both.
    for _ in range(args.repeat):
        for backend in backends:
            for name, tree in trees:
                runs[name][backend].append(await scenario(tree, backend, args, cache))
    for name, _ in trees:
        result[name] = {}
        for backend in backends:
            merged = median_of(runs[name][backend])
            if args.repeat > 1:
                merged["runs"] = runs[name][backend]
            merged["targets"] = verdict(merged, backend)
            result[name][backend] = merged
    if args.memory:
        # What was measured so far is printed even if a memory phase fails.
        print(json.dumps(result, ensure_ascii=False), file=sys.stderr, flush=True)
        result["memory"] = {name: await memory(tree, cache, args.settle) for name, tree in trees}
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=25.0, help="questions a second in the latency phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured phase")
    parser.add_argument("--concurrency", type=int, default=200, help="questions outstanding in the throughput phase")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--framework", choices=("aiogram", "ptb"), default="aiogram")
    parser.add_argument("--baseline", help="another checkout to run first, side by side")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--memory", action="store_true", help="also peak RSS of run, worker and web, and imports")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds each idle process runs for --memory")
    parser.add_argument("--redis-db", type=int, default=6)
    parser.add_argument("--py-spy", help="sample the throughput phase with py-spy; collapsed stacks go here")
    parser.add_argument("--profile", help="profile each `eblagh run` with pyinstrument; reports go to this folder")
    print(json.dumps(asyncio.run(main(parser.parse_args())), ensure_ascii=False, indent=1))
