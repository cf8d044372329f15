"""`LOG_FORMAT=json`: one JSON object per line (time, level, logger, message, request_id when serving
an HTTP request, exception). The privacy filter (bot/log_privacy.py) has rewritten the message first."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from web.api.ops import request_id


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        if record.exc_text or record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


def use_json(level: int) -> None:
    """Every root handler writes JSON lines."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
