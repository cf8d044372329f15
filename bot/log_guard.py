"""Logging for what strangers on the internet can trigger: counted, throttled, and scrubbed of secrets.

`ThrottledLog` turns a flood of refused requests into one line a minute with counts, so a scanner
cannot fill the disk or drown the lines that matter. `SecretRedactor` is a logging filter that
replaces a secret (Bale's webhook path holds one) wherever it would appear in a record: message,
arguments, traceback.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable

REDACTED = "[redacted]"


class ThrottledLog:
    """Counts events by reason and logs them at most once per `interval` seconds, with the counts.

    The first event is logged at once; those that follow within the interval are counted and logged
    with the next event after it, or by `flush()` (call it when the source stops).
    """

    def __init__(self, logger: logging.Logger, what: str, *, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, level: int = logging.WARNING) -> None:
        self._logger = logger
        self._what = what
        self._interval = interval
        self._clock = clock
        self._level = level
        self._counts: Counter[str] = Counter()
        self._since: float | None = None  # when the counting started
        self._last: float | None = None  # when a line was last written

    def note(self, reason: str) -> None:
        now = self._clock()
        if not self._counts:
            self._since = now
        self._counts[reason] += 1
        if self._last is None or now - self._last >= self._interval:
            self.flush()

    def tick(self) -> None:
        """Write what was counted if the interval has passed (cheap: call it on any request)."""
        if self._counts and self._last is not None and self._clock() - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        if not self._counts:
            return
        now = self._clock()
        total = sum(self._counts.values())
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(self._counts.items()))
        seconds = now - (self._since if self._since is not None else now)
        self._logger.log(self._level, "%s: %d in the last %.0f s (%s)", self._what, total, seconds, reasons)
        self._counts.clear()
        self._last = now


class SecretRedactor(logging.Filter):
    """Replaces the secrets in every record it sees; never drops a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
            record.exc_info = None  # a formatter would otherwise format the raw exception again
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


# aiohttp's own loggers: the access log (off in eblagh, but filtered should anyone turn it on) and
# the server's "Error handling request" lines, whose tracebacks can quote a request line.
AIOHTTP_LOGGERS = ("aiohttp.access", "aiohttp.server", "aiohttp.web", "aiohttp.internal")


class Redaction:
    """Installs a SecretRedactor on aiohttp's loggers and on the root logger's handlers, and removes it.

    On the handlers it also covers records propagated from any library (a framework's debug line of
    setWebhook's URL, for one).
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self._filter = SecretRedactor(secrets)
        self._installed: list[logging.Filterer] = []

    def install(self) -> None:
        targets: list[logging.Filterer] = [logging.getLogger(name) for name in AIOHTTP_LOGGERS]
        targets += logging.getLogger().handlers
        for target in targets:
            target.addFilter(self._filter)
        self._installed = targets

    def remove(self) -> None:
        for target in self._installed:
            target.removeFilter(self._filter)
        self._installed = []
