"""A loopback fake of the Telegram/Bale Bot API: the only fake in eblagh's tests (see server.py)."""

from tests.botapi.limits import Faults, Limits
from tests.botapi.server import DEFAULT_TOKEN, ChatMessage, FakeBotAPI

__all__ = ["DEFAULT_TOKEN", "ChatMessage", "FakeBotAPI", "Faults", "Limits"]
