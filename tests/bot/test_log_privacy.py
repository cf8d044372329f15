"""The logging filter: what it masks, what it leaves alone, and that it reaches every record."""

from __future__ import annotations

import io
import logging

import pytest

from bot.log_privacy import PrivacyFilter, install, redact, secrets_of
from bot.settings import Settings

TOKEN = "123456789:AAE-fake-token-for-tests_only0000000"


@pytest.mark.parametrize(("text", "expected"), [
    ("کد ملی 0012345679 است", "کد ملی 001****679 است"),
    ("کد ملی ۰۰۱۲۳۴۵۶۷۹", "کد ملی 001****679"),
    ("'\\u06f0\\u06f0\\u06f1\\u06f2\\u06f3\\u06f4\\u06f5\\u06f6\\u06f7\\u06f9'", "'001****679'"),
    ("0012\u200b345679 / 0012\\u200c345679 / 001-234567-9", "001****679 / 001****679 / 001****679"),
    ("09121234567 +989121234567 989121234567 00989121234567 9121234567",
     " ".join(["+98912***4567"] * 5)),
    ("0912 123 4567 and +98 912-123-45-67 and ۰۹۱۲۱۲۳۴۵۶۷", "+98912***4567 and +98912***4567 and +98912***4567"),
    (f"POST http://127.0.0.1:1/bot{TOKEN}/getUpdates", "POST http://127.0.0.1:1/bot123456789:***/getUpdates"),
])
def test_personal_data_and_tokens_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "2025-01-25 08:00:00.123456 update 700000001 chat 1001, 1001, -100500",
    "SELECT citizens.id FROM citizens WHERE citizens.nid_hash = ?",
    "0012345678 fails the checksum; 1111111111 is all one digit",  # not national IDs
])
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_deployments_secrets_are_hidden_wherever_they_appear() -> None:
    settings = Settings(_env_file=None, BOT_TOKEN=TOKEN, WEBHOOK_SECRET="hook-secret-value", SECRET_KEY="k" * 32,  # type: ignore[call-arg]
                        REDIS_URL="redis://:redis-pass-word@127.0.0.1:6379/0", PLATFORM="bale",
                        WEBHOOK_URL="https://example.org/hook")
    secrets = secrets_of(settings)
    assert {"hook-secret-value", "k" * 32, "redis-pass-word", TOKEN.split(":")[1]} <= set(secrets)
    line = "setWebhook url=https://example.org/hook/hook-secret-value redis://:redis-pass-word@host"
    assert redact(line, PrivacyFilter(secrets).secrets) == "setWebhook url=https://example.org/hook/*** redis://:***@host"


def test_install_reaches_library_records_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    library = logging.getLogger("telegram.Bot")
    level = library.level
    library.setLevel(logging.DEBUG)
    privacy = install(["hook-secret-value"])
    try:
        library.debug("Calling `sendMessage` with %s", {"text": "کد ملی 0012345679", "secret_token": "hook-secret-value"})
        try:
            raise ValueError(f"bad url /bot{TOKEN}/x for 09121234567")
        except ValueError:
            library.exception("failed")
    finally:
        root.removeHandler(handler)
        handler.removeFilter(privacy)
        library.setLevel(level)
    out = stream.getvalue()
    assert "001****679" in out and "+98912***4567" in out and "123456789:***" in out and "ValueError" in out
    assert "0012345679" not in out and "9121234567" not in out and "hook-secret-value" not in out
    assert TOKEN.split(":")[1] not in out
