"""What a claimed outgoing row says: a notice card, a reminder, a broadcast's text, or a staff reply
written in the dashboard's inbox.

The renderers come from handlers (Persian texts live there) through the composition root.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from services.delivery import NoticeRenderer
from services.messaging import OutgoingMessage
from services.notices import NoticeService
from storage import broadcasts, staff_inbox
from storage.database import Database
from storage.outbox import Claimed

TextRenderer = Callable[[str], OutgoingMessage]


class MessageComposer:
    def __init__(self, db: Database, notices: NoticeService, *, notice_card: NoticeRenderer,
                 reminder_card: NoticeRenderer, broadcast_card: TextRenderer,
                 staff_reply_card: TextRenderer | None = None) -> None:
        self._db = db
        self._notices = notices
        self._notice_card = notice_card
        self._reminder_card = reminder_card
        self._broadcast_card = broadcast_card
        self._staff_reply_card = staff_reply_card or broadcast_card
        # A broadcast's text never changes; a hundred thousand copies need one read.
        self._texts: OrderedDict[int, str] = OrderedDict()

    async def compose(self, claimed: Claimed) -> OutgoingMessage | None:
        """The message for this row; None when what it refers to is gone."""
        if claimed.kind == "broadcast":
            text = await self._broadcast_text(claimed.ref_id)
            return None if text is None else self._broadcast_card(text)
        if claimed.kind == "staff_reply":
            async with self._db.session() as session:
                answer = await staff_inbox.reply_text(session, claimed.ref_id)
            return None if answer is None else self._staff_reply_card(answer)
        view = await self._notices.card(claimed.ref_id)
        if view is None:
            return None
        return self._reminder_card(view) if claimed.kind == "reminder" else self._notice_card(view)

    async def _broadcast_text(self, broadcast_id: int) -> str | None:
        if broadcast_id in self._texts:
            return self._texts[broadcast_id]
        async with self._db.session() as session:
            broadcast = await broadcasts.get(session, broadcast_id)
        if broadcast is None:
            return None
        self._texts[broadcast_id] = broadcast.text
        if len(self._texts) > 64:
            self._texts.popitem(last=False)
        return broadcast.text
