#!/usr/bin/env python3
"""Play a citizen through `eblagh run` against a Bot API server nobody in this project wrote.

The server is the npm package telegram-test-api (4.2.1, "Emulating telegram API"), installed with npm
into a cache directory outside the repository and started, unmodified, by scripts/external_botapi/
server.js. The citizen is played through the emulator's own client API (POST /sendCommand,
/sendMessage, /sendCallback, /getUpdates), never by talking to eblagh directly:

  /start -> national ID 0012345679 -> own contact +989121234567 (a message with `contact`, sent as a
  raw message object through /sendMessage) -> the pushed ruling card -> tap «مشاهده متن کامل رأی» ->
  the full text, and the tap answered (answerCallbackQuery) -> «جریمه من چقدره؟» -> «۱۲۵٬۰۰۰٬۰۰۰ تومان»
  -> SIGTERM (exit 0) -> `eblagh receipts export --format jsonl` holds exactly one `viewed` receipt.

Every request eblagh makes and the emulator's answer are logged by the launcher; the report lists
each one the emulator refused (HTTP >= 400 or `ok: false`), webhook deliveries it could not make, and
eblagh's own warnings (eblagh runs with -v; its stderr is kept in the output directory). A webhook
POST that eblagh refused (e.g. 401 for a missing secret header) counts as a refused request too.

    .venv/bin/python scripts/external_botapi_check.py                      # all four combinations
    .venv/bin/python scripts/external_botapi_check.py --framework ptb --mode webhook
    .venv/bin/python scripts/external_botapi_check.py --mode webhook --platform bale

Exit status 0 only if every combination passed every step with no request refused.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
EBLAGH = REPO / ".venv" / "bin" / "eblagh"
LAUNCHER = REPO / "scripts" / "external_botapi" / "server.js"
DEMO = REPO / "bot" / "demo"

PACKAGE, VERSION = "telegram-test-api", "4.2.1"
DEFAULT_MODULE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "eblagh" / f"{PACKAGE}-{VERSION}"

TOKEN = "123456:external-check-token"
USER_ID = 770001  # the citizen's Telegram user id; a private chat has the same id
FIRST_NAME = "مریم"
NATIONAL_ID = "0012345679"
PHONE = "+989121234567"
CASE_NUMBER = "۱۴۰۳۰۵۱۲۳۴"  # the demo fine ruling R-1403-0001
OPEN_BUTTON = "مشاهده متن کامل رأی"
QUESTION = "جریمه من چقدره؟"
FINE = "۱۲۵٬۰۰۰٬۰۰۰ تومان"
WEBHOOK_SECRET = "external-check-secret"


# ---- the emulator --------------------------------------------------------------------------------


def ensure_emulator(module_dir: Path) -> Path:
    """telegram-test-api@4.2.1 in module_dir/node_modules, installed with npm if missing."""
    manifest = module_dir / "node_modules" / PACKAGE / "package.json"
    if manifest.exists() and json.loads(manifest.read_text())["version"] == VERSION:
        return module_dir
    module_dir.mkdir(parents=True, exist_ok=True)
    print(f"installing {PACKAGE}@{VERSION} into {module_dir} with npm", file=sys.stderr)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(module_dir),
                    f"{PACKAGE}@{VERSION}"], check=True, stdout=sys.stderr)
    return module_dir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Emulator:
    """The launcher process; its stdout is one JSON record per HTTP exchange."""

    def __init__(self, module_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(["node", str(LAUNCHER), str(self.port), str(module_dir)],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not any(r.get("kind") == "ready" for r in self.records()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        self.http = httpx.Client(base_url=self.base, timeout=10)

    def records(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                record = {"kind": "text", "line": line}
            out.append(record)
        return out

    def bot_calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """eblagh's requests (`/bot<token>/<method>`) with the emulator's answers."""
        calls = [r for r in self.records() if r.get("kind") == "http" and r["url"].startswith("/bot")]
        return [c for c in calls if method is None or c["url"].split("?")[0].rsplit("/", 1)[-1] == method]

    # the emulator's client API (telegram-test-api's own, not the Bot API)
    def client(self, route: str, body: dict[str, Any]) -> Any:
        response = self.http.post(route, json={"botToken": TOKEN, **body})
        response.raise_for_status()
        return response.json()

    def bot_messages(self) -> list[dict[str, Any]]:
        """Unread messages the bot sent to the citizen's chat (each is marked read)."""
        response = self.http.post("/getUpdates", json={"token": TOKEN, "chatId": USER_ID})
        response.raise_for_status()
        return list(response.json()["result"])

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


# ---- the citizen ---------------------------------------------------------------------------------


def _person() -> dict[str, Any]:
    return {"id": USER_ID, "is_bot": False, "first_name": FIRST_NAME}


def _chat() -> dict[str, Any]:
    return {"id": USER_ID, "type": "private", "first_name": FIRST_NAME}


def message(**fields: Any) -> dict[str, Any]:
    return {"from": _person(), "chat": _chat(), "date": int(time.time()), **fields}


@dataclass
class Transcript:
    emulator: Emulator
    received: list[dict[str, Any]] = field(default_factory=list)

    def wait_for(self, predicate: Any, timeout: float, since: int = 0) -> dict[str, Any] | None:
        """The first bot message (from index `since`) matching predicate, fetching until timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.received[since:]:
                if predicate(record["message"]):
                    return record
            if time.monotonic() > deadline:
                return None
            self.received.extend(self.emulator.bot_messages())
            time.sleep(0.2)

    def settle(self, seconds: float = 1.0) -> None:
        time.sleep(seconds)
        self.received.extend(self.emulator.bot_messages())


def text_of(msg: dict[str, Any]) -> str:
    return str(msg.get("text") or "")


def markup_of(msg: dict[str, Any]) -> dict[str, Any]:
    markup = msg.get("reply_markup") or {}
    return json.loads(markup) if isinstance(markup, str) else markup


def inline_buttons(msg: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in markup_of(msg).get("inline_keyboard") or [] for b in row]


def asks_contact(msg: dict[str, Any]) -> bool:
    rows = markup_of(msg).get("keyboard") or []
    return any(b.get("request_contact") in (True, "true") for row in rows for b in row if isinstance(b, dict))


def is_card(msg: dict[str, Any]) -> bool:
    return CASE_NUMBER in text_of(msg) and any(OPEN_BUTTON in b.get("text", "") for b in inline_buttons(msg))


# ---- one combination -----------------------------------------------------------------------------


@dataclass
class Result:
    framework: str
    mode: str
    platform: str
    steps: list[tuple[str, bool, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def step(self, name: str, ok: bool, detail: str = "") -> bool:
        self.steps.append((name, ok, detail))
        print(f"  [{'ok' if ok else 'FAIL'}] {name}{': ' + detail if detail else ''}", flush=True)
        return ok

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(ok for _, ok, _ in self.steps) and not self.refused

    def as_dict(self) -> dict[str, Any]:
        return {"framework": self.framework, "mode": self.mode, "platform": self.platform, "passed": self.passed,
                "steps": [{"step": n, "ok": ok, "detail": d} for n, ok, d in self.steps],
                "refused": self.refused, "eblagh_warnings": self.warnings, "notes": self.notes}


def seed(data_dir: Path, env: dict[str, str], log: Path) -> None:
    with log.open("w") as out:
        for kind, name in (("citizens", "citizens.csv"), ("cases", "cases.jsonl"), ("rulings", "rulings.jsonl")):
            subprocess.run([str(EBLAGH), "import", kind, str(DEMO / name)], env=env, check=True,
                           stdout=out, stderr=subprocess.STDOUT)


def run_combination(framework: str, mode: str, platform: str, module_dir: Path, out_dir: Path,
                    step_timeout: float) -> Result:
    result = Result(framework, mode, platform)
    name = f"{framework}-{mode}-{platform}"
    work = out_dir / name
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    env = {**os.environ, "DATA_DIR": str(data_dir), "SECRET_KEY": "external-check-secret-key-0123456789"}
    for unset in ("DATABASE_URL", "REDIS_URL", "WEBHOOK_URL", "WEBHOOK_LISTEN", "WEBHOOK_SECRET"):
        env.pop(unset, None)
    seed(data_dir, env, work / "seed.log")

    emulator = Emulator(module_dir, work / "emulator.jsonl")
    env.update({"BOT_TOKEN": TOKEN, "BOT_API_BASE": emulator.base, "BOT_FRAMEWORK": framework,
                "PLATFORM": platform})
    if mode == "webhook":
        hook_port = free_port()
        env.update({"WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/tg", "WEBHOOK_LISTEN": f"127.0.0.1:{hook_port}",
                    "WEBHOOK_SECRET": WEBHOOK_SECRET})
    stderr_path = work / "eblagh.stderr"
    with stderr_path.open("w") as err, (work / "eblagh.stdout").open("w") as out:
        proc = subprocess.Popen([str(EBLAGH), "-v", "run"], env=env, stdout=out, stderr=err)
    try:
        _play(result, emulator, proc, mode, step_timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        emulator_records = emulator.records()
        emulator.stop()
    _collect(result, emulator_records, stderr_path)
    if result.steps and result.steps[-1][0].startswith("SIGTERM"):
        exported = subprocess.run([str(EBLAGH), "receipts", "export", "--format", "jsonl"], env=env,
                                  capture_output=True, text=True)
        rows = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
        viewed = [r for r in rows if r.get("service_kind") == "viewed"]
        kinds = Counter(r.get("service_kind") for r in rows)
        result.step("receipts export: exactly one viewed receipt", exported.returncode == 0 and len(viewed) == 1,
                    f"exit {exported.returncode}, service kinds {dict(kinds)}")
    (work / "result.json").write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return result


def _play(result: Result, emulator: Emulator, proc: subprocess.Popen[bytes], mode: str, timeout: float) -> None:
    ready_method = "setWebhook" if mode == "webhook" else "getUpdates"
    deadline = time.monotonic() + 90
    while not emulator.bot_calls(ready_method):
        if proc.poll() is not None or time.monotonic() > deadline:
            result.step(f"eblagh run started ({ready_method} called)", False, f"exit status {proc.poll()}")
            return
        time.sleep(0.2)
    result.step(f"eblagh run started ({ready_method} called)", True)
    chat = Transcript(emulator)

    emulator.client("/sendCommand", message(text="/start", entities=[{"offset": 0, "length": 6, "type": "bot_command"}]))
    got = chat.wait_for(lambda m: "کد ملی" in text_of(m), timeout)
    result.step("/start answered (asks for the national ID)", got is not None)

    since = len(chat.received)
    emulator.client("/sendMessage", message(text=NATIONAL_ID))
    got = chat.wait_for(asks_contact, timeout, since)
    result.step("national ID answered with a request_contact keyboard", got is not None)

    since = len(chat.received)
    # The contact is a raw message object: the emulator stores whatever /sendMessage is given.
    emulator.client("/sendMessage", message(contact={"phone_number": PHONE, "first_name": FIRST_NAME,
                                                     "user_id": USER_ID}))
    got = chat.wait_for(lambda m: "هویت شما تأیید شد" in text_of(m), timeout, since)
    result.step("own contact accepted (authenticated)", got is not None)

    card = chat.wait_for(is_card, timeout, since)
    result.step(f"ruling card pushed (case {CASE_NUMBER}, «{OPEN_BUTTON}» button)", card is not None)
    if card is not None:
        button = next(b for b in inline_buttons(card["message"]) if OPEN_BUTTON in b.get("text", ""))
        chat.settle()
        since = len(chat.received)
        answers_before = len(emulator.bot_calls("answerCallbackQuery"))
        edits_before = len(emulator.bot_calls("editMessageText"))
        card_message = {"message_id": card["messageId"], "date": int(card["time"] // 1000), "chat": _chat(),
                        "from": {"id": 123456, "is_bot": True, "first_name": "eblagh"},
                        "text": text_of(card["message"])}
        emulator.client("/sendCallback", {"from": _person(), "message": card_message, "data": button["callback_data"]})

        def full_text_edit() -> bool:
            return any(CASE_NUMBER in str(c["request"].get("text", "")) and "متن رأی" in str(c["request"].get("text", ""))
                       for c in emulator.bot_calls("editMessageText")[edits_before:])
        got = chat.wait_for(lambda m: "متن رأی" in text_of(m) and CASE_NUMBER in text_of(m), timeout, since)
        result.step("tap: the full text arrives", got is not None or full_text_edit())
        deadline = time.monotonic() + timeout
        answers: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not answers:
            answers = emulator.bot_calls("answerCallbackQuery")[answers_before:]
            time.sleep(0.2)
        time.sleep(1.0)
        answers = emulator.bot_calls("answerCallbackQuery")[answers_before:]
        # The emulator numbers callback queries from 1; this is the only one of the run.
        ids = [str(a["request"].get("callback_query_id")) for a in answers]
        result.step("tap answered exactly once (answerCallbackQuery)", ids == ["1"], f"answerCallbackQuery ids {ids}")

    chat.settle()
    since = len(chat.received)
    emulator.client("/sendMessage", message(text=QUESTION))
    got = chat.wait_for(lambda m: FINE in text_of(m), timeout, since)
    result.step(f"«{QUESTION}» answered with «{FINE}»", got is not None)
    chat.settle(1.5)

    texts = Counter(text_of(r["message"]) for r in chat.received)
    repeated = {t[:60]: n for t, n in texts.items() if n > 1}
    if repeated:
        result.notes.append(f"the citizen received {sum(n - 1 for n in repeated.values())} duplicate message(s): {repeated}")
    result.notes.append(f"the citizen received {len(chat.received)} message(s); eblagh made "
                        f"{len(emulator.bot_calls('getUpdates'))} getUpdates call(s)")

    proc.send_signal(signal.SIGTERM)
    try:
        status = proc.wait(40)
    except subprocess.TimeoutExpired:
        status = None
    result.step("SIGTERM: eblagh exits 0", status == 0, f"exit status {status}")


def _collect(result: Result, records: list[dict[str, Any]], stderr_path: Path) -> None:
    refused: Counter[str] = Counter()
    for r in records:
        if r.get("kind") == "http" and r["url"].startswith("/bot"):
            body = r.get("body")
            ok = isinstance(body, dict) and body.get("ok") is True
            if r["status"] >= 400 or not ok:
                method = r["url"].split("?")[0].rsplit("/", 1)[-1]
                detail = json.dumps(body, ensure_ascii=False)[:160]
                refused[f"{method}: HTTP {r['status']} {detail}"] += 1
        elif r.get("kind") == "webhook_failed":
            # The other direction: eblagh's webhook refused the emulator's POST (the update is lost).
            refused[f"webhook POST to eblagh answered HTTP {r.get('status')} ({r.get('message')})"] += 1
    result.refused = [f"{line} (x{n})" for line, n in refused.items()]
    warnings: Counter[str] = Counter()
    for line in stderr_path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in ("WARNING", "ERROR", "CRITICAL") and not parts[3].startswith("py.warnings"):
            warnings[f"{parts[2]} {parts[3][:200]}"] += 1
        elif line.startswith(("Traceback", "ValueError", "TypeError", "AttributeError", "pydantic")):
            warnings[line[:200]] += 1
    result.warnings = [f"{line} (x{n})" for line, n in warnings.items()]


# ---- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--framework", choices=("aiogram", "ptb", "all"), default="all")
    parser.add_argument("--mode", choices=("polling", "webhook", "all"), default="all")
    parser.add_argument("--platform", choices=("telegram", "bale"), default="telegram",
                        help="PLATFORM for eblagh (bale puts the webhook secret in the URL path)")
    parser.add_argument("--module-dir", type=Path, default=DEFAULT_MODULE_DIR,
                        help=f"where {PACKAGE} is (or gets) installed (default {DEFAULT_MODULE_DIR})")
    parser.add_argument("--out", type=Path, default=None, help="keep logs here (default: a new temp dir)")
    parser.add_argument("--step-timeout", type=float, default=20.0, help="seconds each step may take")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON array at the end")
    args = parser.parse_args()

    module_dir = ensure_emulator(args.module_dir.resolve())
    out_dir = (args.out or Path(tempfile.mkdtemp(prefix="eblagh-external-"))).resolve()
    frameworks = ("aiogram", "ptb") if args.framework == "all" else (args.framework,)
    modes = ("polling", "webhook") if args.mode == "all" else (args.mode,)
    results = []
    for framework in frameworks:
        for mode in modes:
            print(f"== {framework} / {mode} / PLATFORM={args.platform} (logs: {out_dir}/{framework}-{mode}-{args.platform})",
                  flush=True)
            result = run_combination(framework, mode, args.platform, module_dir, out_dir, args.step_timeout)
            for line in result.refused:
                print(f"  refused: {line}")
            for line in result.warnings:
                print(f"  eblagh: {line}")
            for line in result.notes:
                print(f"  note: {line}")
            results.append(result)
    print("\nsummary:")
    for r in results:
        failed = [n for n, ok, _ in r.steps if not ok]
        why = f"failed steps: {failed}" if failed else ""
        if r.refused:
            why = (why + "; " if why else "") + f"{len(r.refused)} kind(s) of refused request"
        print(f"  {r.framework:8} {r.mode:8} {r.platform:9} {'PASS' if r.passed else 'FAIL'}  {why}")
    if args.json:
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
