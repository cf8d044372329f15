"""Each `eblagh` process loads only what it uses (issue 12, memory): checked on `sys.modules` at exit.

`eblagh worker` understands no text (no intent model, no hazm, no scikit-learn) and serves no web;
`eblagh web` sends through no messenger library; `eblagh run` loads the selected framework only, and
understands questions without hazm or scikit-learn (their tables are data: nlp/make_hazm_tables.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from nlp import IntentModel
from storage.database import upgrade
from tests.botapi import FakeBotAPI
from tests.botapi.fixtures import no_real_network  # noqa: F401 - autouse fixture
from tests.delivery_kit import SECRET

# Runs the `eblagh` command line and, at exit, writes the names of every module it imported.
PROBE = """
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["MODULES_OUT"], "w").write(json.dumps(sorted(sys.modules))))
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""
TEXT_ONLY = ("hazm", "sklearn", "scipy", "nltk", "nlp.model", "numpy", "finglish")
WEB_ONLY = ("fastapi", "uvicorn", "starlette")
MESSENGERS = ("aiogram", "telegram")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the intent model's cache, as a running deployment has it."""
    folder = tmp_path_factory.mktemp("process-imports")
    IntentModel.load(cache_dir=folder / "cache")  # trained here: a deployment trains once, then reads the cache
    return folder


async def _modules_of(data_dir: Path, api: FakeBotAPI, *command: str, started: str, **env: str) -> set[str]:
    """Start `eblagh COMMAND`, wait for `started` on its stderr, stop it (SIGTERM); its modules."""
    name = "-".join([*command, *env.values()])
    out = data_dir / f"modules-{name}.json"
    database = f"sqlite:///{data_dir / name}.db"  # its own: the update ids of each fake server start at 1
    await asyncio.to_thread(upgrade, database)
    environment = {**os.environ, "DATABASE_URL": database, "SECRET_KEY": SECRET.decode(),
                   "BOT_TOKEN": api.token, "BOT_API_BASE": api.base_url, "DATA_DIR": str(data_dir),
                   "WEB_LISTEN": f"127.0.0.1:{_free_port()}", "MODULES_OUT": str(out), **env}
    environment.pop("REDIS_URL", None)
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", PROBE, *command, env=environment,
                                                   cwd=data_dir, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    seen = b""
    try:
        while started.encode() not in seen:
            line = await asyncio.wait_for(process.stderr.readline(), 60)
            assert line, f"eblagh {command[0]} stopped: {seen.decode()}"
            seen += line
        if command[0] == "run":  # a question answered: the intent model and normalisation did run
            api.send_text(4242, "جریمه من چقدره؟")
            try:
                await api.wait_for_messages(4242, 1, timeout=30)
            except TimeoutError:
                process.send_signal(signal.SIGTERM)
                _, rest = await asyncio.wait_for(process.communicate(), 60)
                raise AssertionError((seen + rest).decode()) from None
        else:
            await asyncio.sleep(1.5)  # its loops have started
    finally:
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), 60)
        seen += rest
    assert process.returncode == 0, seen.decode()
    return set(json.loads(out.read_text()))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules]


async def test_worker_loads_no_text_understanding_and_no_web(data_dir: Path) -> None:
    async with FakeBotAPI() as api:
        modules = await _modules_of(data_dir, api, "worker", started="eblagh worker:")
    assert _loaded(modules, TEXT_ONLY + WEB_ONLY) == []
    assert _loaded(modules, MESSENGERS) == ["aiogram"]


async def test_worker_on_ptb_loads_ptb_only(data_dir: Path) -> None:
    async with FakeBotAPI() as api:
        modules = await _modules_of(data_dir, api, "worker", started="eblagh worker:", BOT_FRAMEWORK="ptb")
    assert _loaded(modules, MESSENGERS) == ["telegram"]


async def test_web_loads_no_messenger_and_no_text_understanding(data_dir: Path) -> None:
    async with FakeBotAPI() as api:
        modules = await _modules_of(data_dir, api, "web", started="serving on")
    assert _loaded(modules, MESSENGERS + TEXT_ONLY) == []
    assert "fastapi" in modules


@pytest.mark.parametrize(("framework", "library"), [("aiogram", "aiogram"), ("ptb", "telegram")])
async def test_run_loads_its_framework_and_the_model_but_not_hazm(data_dir: Path, framework: str,
                                                                  library: str) -> None:
    async with FakeBotAPI() as api:
        api.add_user(4242)
        modules = await _modules_of(data_dir, api, "run", "--poll-timeout", "1", started="eblagh run:",
                                    BOT_FRAMEWORK=framework)
    assert _loaded(modules, MESSENGERS) == [library]
    assert _loaded(modules, ("hazm", "sklearn", "scipy", "nltk") + WEB_ONLY) == []
    assert "nlp.model" in modules  # it does understand text
