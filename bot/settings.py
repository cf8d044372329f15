"""Typed settings, read once from the environment and `.env`, then passed in.

Nothing reads the environment at import time; `load_settings()` is called by the CLI only.
`.env.example` documents every variable.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.law.service_dates import ServiceRule
from storage.files import make_private_dir, tighten, write_private_file
from storage.vocabulary import Platform

__all__ = ["Framework", "Platform", "Settings"]


class Framework(StrEnum):
    AIOGRAM = "aiogram"
    PTB = "ptb"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # storage
    data_dir: Path = Field(default=Path(".eblagh"), alias="DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    secret_key: str | None = Field(default=None, alias="SECRET_KEY")

    # messenger
    bot_token: str | None = Field(default=None, alias="BOT_TOKEN")
    bot_api_base: str = Field(default="https://api.telegram.org", alias="BOT_API_BASE")
    bot_framework: Framework = Field(default=Framework.AIOGRAM, alias="BOT_FRAMEWORK")
    platform: Platform = Field(default=Platform.TELEGRAM, alias="PLATFORM")
    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_listen: str = Field(default="127.0.0.1:8080", alias="WEBHOOK_LISTEN")
    webhook_secret: str | None = Field(default=None, alias="WEBHOOK_SECRET")
    web_listen: str = Field(default="127.0.0.1:8000", alias="WEB_LISTEN")
    api_rate: float = Field(default=50.0, gt=0, alias="API_RATE")
    log_format: str = Field(default="text", pattern="^(text|json)$", alias="LOG_FORMAT")
    # The dashboard's cookies carry `Secure`: set when eblagh web is served behind HTTPS.
    web_secure_cookies: bool = Field(default=False, alias="WEB_SECURE_COOKIES")
    staff_user_ids: str = Field(default="", alias="STAFF_USER_IDS")
    staff_chat_id: int | None = Field(default=None, alias="STAFF_CHAT_ID")
    # Bale's payment provider token (wallet / merchant); set with PLATFORM=bale to take fines in the chat.
    # A SecretStr, so no repr or log line of the settings can show it.
    bale_payment_provider_token: SecretStr | None = Field(default=None, alias="BALE_PAYMENT_PROVIDER_TOKEN")

    # delivery
    delivery_rate: float = Field(default=25.0, gt=0, alias="DELIVERY_RATE")
    delivery_chat_rate: float = Field(default=1.0, gt=0, alias="DELIVERY_CHAT_RATE")
    reminder_days_before_deemed: int = Field(default=2, ge=0, alias="REMINDER_DAYS_BEFORE_DEEMED")

    # law
    service_rule: ServiceRule = Field(default=ServiceRule.VIEW_OR_DEEMED, alias="SERVICE_RULE")
    deemed_service_days: int = Field(default=10, ge=1, alias="DEEMED_SERVICE_DAYS")
    appeal_days: int = Field(default=10, ge=1, alias="APPEAL_DAYS")

    # authentication
    auth_max_failures_per_chat: int = Field(default=5, ge=1, alias="AUTH_MAX_FAILURES_PER_CHAT")
    # Failures on one national ID from this many chats are reported to staff; they never lock the ID.
    auth_alert_chats_per_id: int = Field(default=2, ge=2, alias="AUTH_ALERT_CHATS_PER_ID")
    auth_lockout_minutes: int = Field(default=60, ge=1, alias="AUTH_LOCKOUT_MINUTES")

    @field_validator("database_url", "redis_url", "secret_key", "bot_token", "webhook_url",
                     "webhook_secret", "staff_chat_id", "bale_payment_provider_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def staff_ids(self) -> frozenset[int]:
        return frozenset(int(p) for p in self.staff_user_ids.replace(" ", "").split(",") if p)

    @property
    def payment_token(self) -> str | None:
        """The provider token when fines can be paid in the chat: Bale only, and only when set."""
        if self.platform is not Platform.BALE or self.bale_payment_provider_token is None:
            return None
        return self.bale_payment_provider_token.get_secret_value() or None

    @property
    def embedded(self) -> bool:
        """The embedded default: SQLite in the data folder, no services."""
        return self.database_url is None or self.database_url.startswith("sqlite")

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'eblagh.db'}"


class MissingSecretKey(RuntimeError):
    pass


def resolve_secret_key(settings: Settings) -> tuple[bytes, str | None]:
    """The HMAC key for personal data, and a notice to print when one was just created.

    The embedded default keeps a generated key in its data folder; a PostgreSQL deployment must set
    SECRET_KEY, since a key lost with a container would make every stored hash unmatchable.
    """
    if settings.secret_key:
        return settings.secret_key.encode(), None
    if not settings.embedded:
        raise MissingSecretKey("SECRET_KEY must be set when DATABASE_URL points at PostgreSQL")
    path = settings.data_dir / "secret.key"
    if path.exists():
        tighten(path)  # as an older eblagh left it (0644)
        return path.read_text().strip().encode(), None
    make_private_dir(settings.data_dir)
    key = secrets.token_hex(32)
    write_private_file(path, key + "\n")  # 0600 from the first byte
    return key.encode(), f"no SECRET_KEY set: created one in {path} (keep it; hashes depend on it)"


def load_settings() -> Settings:
    return Settings()
