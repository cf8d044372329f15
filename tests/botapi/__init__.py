"""A loopback fake of the Telegram/Bale Bot API: the only fake in eblagh's tests (see server.py)."""

from tests.botapi.limits import Faults, Limits
from tests.botapi.records import ChatMessage
from tests.botapi.server import DEFAULT_TOKEN, FakeBotAPI

__all__ = ["DEFAULT_TOKEN", "ChatMessage", "FakeBotAPI", "Faults", "Limits"]
