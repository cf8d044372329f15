"""Messenger adapters: one per transport (console, aiogram, python-telegram-bot), one port.

`build_messenger(settings)` picks the Bot API adapter named by BOT_FRAMEWORK. Each Bot API adapter
module offers the same functions: `build_bot(token, api_base)`, the messenger class,
`event_from_update(update, platform)` and `callback_id(update)`; `ALLOWED_UPDATES` lists the update
kinds they convert.
"""

from __future__ import annotations

from bot.messengers.botapi import ALLOWED_UPDATES, BotApiMessenger, mask_token
from bot.settings import Framework, Settings

__all__ = ["ALLOWED_UPDATES", "BotApiMessenger", "MissingBotToken", "build_messenger", "describe"]


class MissingBotToken(RuntimeError):
    pass


def build_messenger(settings: Settings) -> BotApiMessenger:
    """The Bot API messenger for these settings; the caller closes it with `await messenger.close()`."""
    if not settings.bot_token:
        raise MissingBotToken("BOT_TOKEN must be set to talk to Telegram or Bale")
    platform = settings.platform.value
    # Imported here so the shell and the other commands never pay for both libraries.
    if settings.bot_framework is Framework.PTB:
        from bot.messengers import ptb_adapter

        return ptb_adapter.PtbMessenger(ptb_adapter.build_bot(settings.bot_token, settings.bot_api_base), platform,
                                        settings.payment_token)
    from bot.messengers import aiogram_adapter

    return aiogram_adapter.AiogramMessenger(
        aiogram_adapter.build_bot(settings.bot_token, settings.bot_api_base), platform, settings.payment_token)


def describe(settings: Settings) -> str:
    """A log line naming the transport without revealing the token."""
    token = mask_token(settings.bot_token or "")
    return f"{settings.bot_framework.value} on {settings.platform.value} at {settings.bot_api_base} as {token}"
