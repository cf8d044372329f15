"""What a chat last talked about (one case, one question, when), so a follow-up can lean on it.

«جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟» then «مهلتش کی تموم میشه؟»: the second question is about the same
case. The context lives in the conversation state store beside, never inside, the chat's step (its
own Redis key / its own dict), so it cannot disturb a login or a staff broadcast in progress. It is
forgotten after FOLLOW_UP_WINDOW without a case question, on /logout and /cancel, and whenever the
chat is bound to another citizen (it names the citizen it belongs to).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from services.clock import Clock

FOLLOW_UP_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class CaseContext:
    citizen_id: int
    case_number: str | None  # None: the last answer offered a choice of cases
    intent: str | None
    at: datetime

    def to_mapping(self) -> dict[str, str]:
        return {"citizen": str(self.citizen_id), "case": self.case_number or "", "intent": self.intent or "",
                "at": self.at.isoformat()}

    @classmethod
    def from_mapping(cls, mapping: dict[str, str]) -> CaseContext | None:
        """None for an empty or unreadable mapping (an older or damaged entry is simply forgotten)."""
        try:
            at = datetime.fromisoformat(mapping["at"])
            citizen_id = int(mapping["citizen"])
        except (KeyError, ValueError):
            return None
        if at.tzinfo is None:
            return None
        return cls(citizen_id, mapping.get("case") or None, mapping.get("intent") or None, at)


class ContextStore(Protocol):
    """The context side of the conversation state store (services.state.StateStore has it)."""

    async def load_context(self, platform: str, chat_id: int) -> dict[str, str]: ...

    async def save_context(self, platform: str, chat_id: int, mapping: dict[str, str]) -> None: ...

    async def clear_context(self, platform: str, chat_id: int) -> None: ...


class FollowUps:
    def __init__(self, store: ContextStore, clock: Clock, window: timedelta = FOLLOW_UP_WINDOW) -> None:
        self._store = store
        self._clock = clock
        self._window = window

    async def recall(self, platform: str, chat_id: int, citizen_id: int | None) -> CaseContext | None:
        """The chat's context if it is recent and belongs to `citizen_id` (the chat's citizen now)."""
        if citizen_id is None:
            return None
        return self.recent(await self._store.load_context(platform, chat_id), citizen_id)

    def recent(self, mapping: dict[str, str], citizen_id: int | None) -> CaseContext | None:
        """`recall` on a context already read (StateStore.load_with_context): the same checks."""
        if citizen_id is None:
            return None
        context = CaseContext.from_mapping(mapping)
        if context is None or context.citizen_id != citizen_id:
            return None
        if self._clock() - context.at > self._window:
            return None
        return context

    async def remember(self, platform: str, chat_id: int, citizen_id: int, *, case_number: str | None,
                       intent: str | None) -> None:
        context = CaseContext(citizen_id, case_number, intent, self._clock())
        await self._store.save_context(platform, chat_id, context.to_mapping())

    async def forget(self, platform: str, chat_id: int) -> None:
        await self._store.clear_context(platform, chat_id)
