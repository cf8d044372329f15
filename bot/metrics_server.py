"""`--metrics-listen HOST:PORT` for `eblagh run` and `eblagh worker`: `GET /metrics` in Prometheus text
format, served by a small aiohttp app on the process's own event loop. Off unless the flag is given.

The metrics themselves are registered in services/process_metrics.py; this module serves them and
adds what every such process has: queue depth by lane (read from the database at scrape time).
Nothing else is served on that port (404), and nothing is logged per request.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from bot.runtime import Runtime
from services.clock import Clock
from services.metrics import CONTENT_TYPE_LATEST
from services.process_metrics import ProcessMetrics
from services.queue_stats import QueueStats

log = logging.getLogger(__name__)


def listen_address(listen: str) -> tuple[str, int]:
    """`host:port` (`[::1]:port`; `:port` for every interface); ValueError when it is not one."""
    host, colon, port = listen.rpartition(":")
    number = int(port)
    if not colon or not 0 < number < 65536:
        raise ValueError(listen)
    return host.strip("[]") or "0.0.0.0", number


class MetricsListenError(Exception):
    """The metrics address cannot be served (taken, not this machine's, not permitted)."""


def metrics_listen(text: str) -> str:
    """argparse type for `--metrics-listen`: HOST:PORT ([::1]:PORT for IPv6, :PORT for every interface)."""
    try:
        listen_address(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:9100; got {text!r}") from None
    return text


class MetricsServer:
    def __init__(self, listen: str, render: Callable[[], Awaitable[bytes]]) -> None:
        self._listen = listen
        self._render = render
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        try:
            host, port = listen_address(self._listen)
            await web.TCPSite(self._runner, host, port).start()
        except (OSError, ValueError) as error:
            await self.stop()
            reason = getattr(error, "strerror", None) or str(error)
            raise MetricsListenError(f"cannot serve metrics on {self._listen}: {reason}") from None
        self.port = self._runner.addresses[0][1]
        log.info("metrics on http://%s/metrics", self._listen)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=await self._render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


@asynccontextmanager
async def serving_metrics(listen: str | None, runtime: Runtime, clock: Clock) -> AsyncIterator[ProcessMetrics]:
    """The process's metrics, with queue depth, served on `listen` while the block runs (counted either way).

    Raises MetricsListenError before the block when `listen` cannot be served.
    """
    metrics = ProcessMetrics(clock)
    metrics.watch_queues(QueueStats(runtime.database, clock))
    if listen is None:
        yield metrics
        return
    server = MetricsServer(listen, metrics.render)
    await server.start()
    try:
        yield metrics
    finally:
        await server.stop()
