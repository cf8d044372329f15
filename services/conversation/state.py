"""Conversation state per chat, behind a small interface: in memory on one machine, Redis for many.

State holds only what the next message needs (which step, the hash of a pending national ID);
never a clear national ID or phone number. Beside it each chat has a case context for follow-up
questions (services.conversation.followups), kept apart with its own expiry: saving or clearing the step never
touches the context, and the reverse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Step(StrEnum):
    IDLE = "idle"
    AWAITING_NATIONAL_ID = "awaiting_national_id"
    AWAITING_CONTACT = "awaiting_contact"
    AWAITING_BROADCAST_TEXT = "awaiting_broadcast_text"


@dataclass
class ChatState:
    step: Step = Step.IDLE
    data: dict[str, str] = field(default_factory=dict)

    def to_mapping(self) -> dict[str, str]:
        return {"step": self.step.value, **{f"d:{k}": v for k, v in self.data.items()}}

    @classmethod
    def from_mapping(cls, mapping: dict[str, str]) -> ChatState:
        step = Step(mapping.get("step", Step.IDLE.value))
        return cls(step=step, data={k[2:]: v for k, v in mapping.items() if k.startswith("d:")})


class StateStore(Protocol):
    async def load(self, platform: str, chat_id: int) -> ChatState: ...

    async def load_with_context(self, platform: str, chat_id: int) -> tuple[ChatState, dict[str, str]]:
        """The step and the case context together (one round trip on Redis): what a free-text message reads."""
        ...

    async def save(self, platform: str, chat_id: int, state: ChatState) -> None: ...

    async def clear(self, platform: str, chat_id: int) -> None: ...

    async def load_context(self, platform: str, chat_id: int) -> dict[str, str]: ...

    async def save_context(self, platform: str, chat_id: int, mapping: dict[str, str]) -> None: ...

    async def clear_context(self, platform: str, chat_id: int) -> None: ...


class MemoryStateStore:
    """One process: a dict with expiry, so an abandoned login does not linger forever."""

    def __init__(self, ttl_seconds: float = 3600.0, context_ttl_seconds: float = 1800.0) -> None:
        self._ttl = ttl_seconds
        self._context_ttl = context_ttl_seconds
        self._states: dict[tuple[str, int], tuple[float, dict[str, str]]] = {}
        self._contexts: dict[tuple[str, int], tuple[float, dict[str, str]]] = {}

    async def load(self, platform: str, chat_id: int) -> ChatState:
        entry = self._states.get((platform, chat_id))
        if entry is None or entry[0] < time.monotonic():
            self._states.pop((platform, chat_id), None)
            return ChatState()
        return ChatState.from_mapping(dict(entry[1]))

    async def load_with_context(self, platform: str, chat_id: int) -> tuple[ChatState, dict[str, str]]:
        return await self.load(platform, chat_id), await self.load_context(platform, chat_id)

    async def save(self, platform: str, chat_id: int, state: ChatState) -> None:
        self._states[(platform, chat_id)] = (time.monotonic() + self._ttl, state.to_mapping())

    async def clear(self, platform: str, chat_id: int) -> None:
        self._states.pop((platform, chat_id), None)

    # The case context: FollowUps decides freshness by its own clock; this expiry only frees memory.

    async def load_context(self, platform: str, chat_id: int) -> dict[str, str]:
        entry = self._contexts.get((platform, chat_id))
        if entry is None or entry[0] < time.monotonic():
            self._contexts.pop((platform, chat_id), None)
            return {}
        return dict(entry[1])

    async def save_context(self, platform: str, chat_id: int, mapping: dict[str, str]) -> None:
        self._contexts[(platform, chat_id)] = (time.monotonic() + self._context_ttl, dict(mapping))

    async def clear_context(self, platform: str, chat_id: int) -> None:
        self._contexts.pop((platform, chat_id), None)
