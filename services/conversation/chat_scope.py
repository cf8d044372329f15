"""Where citizens are served: only in private chats. Groups are told so once, and only once.

A group (or supergroup, or channel) is nobody's own chat: whatever eblagh shows there, every member
reads, and whatever a member taps there is not the citizen's act. So nothing personal happens in
one; the first update from a group gets a short note pointing to a private chat, and the group is
remembered in the audit trail (durably, across restarts and state expiry), so it is never told again.
"""

from __future__ import annotations

from services.clock import Clock
from storage import audit
from storage.database import Database

GROUP_TOLD = "group_told_private_only"


class GroupNotes:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def first_time(self, platform: str, chat_id: int) -> bool:
        """True once per group: the caller then sends its note. Updates of one chat come one at a time."""
        actor = f"{platform}:{chat_id}"
        async with self._db.session() as session:
            if await audit.has_event(session, actor=actor, action=GROUP_TOLD):
                return False
            audit.record_event(session, actor=actor, action=GROUP_TOLD, at=self._clock())
            return True
