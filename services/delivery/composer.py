"""What a claimed row of the messenger lane says: a notice card, a reminder, a broadcast's text, or
the text it was queued with (a handoff, a staff reply, a note).

The renderers come from handlers (Persian texts live there) through the composition root.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from services.messaging import MessageSender, OutgoingMessage, SentMessage
from services.notices import NoticeService, NoticeView
from storage import broadcasts, staff_inbox
from storage.database import Database
from storage.messages import Claimed
from storage.models import MessageKind

NoticeRenderer = Callable[[NoticeView], OutgoingMessage]
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
        if claimed.body is not None:
            return OutgoingMessage(claimed.body)
        if claimed.kind == MessageKind.BROADCAST:
            text = await self._broadcast_text(claimed.ref_id)
            return None if text is None else self._broadcast_card(text)
        if claimed.kind == MessageKind.STAFF_REPLY:  # a dashboard answer carried over from the outbox (0011)
            async with self._db.session() as session:
                answer = await staff_inbox.reply_text(session, -claimed.ref_id)
            return None if answer is None else self._staff_reply_card(answer)
        view = await self._notices.card(claimed.ref_id)
        if view is None:
            return None
        return self._reminder_card(view) if claimed.kind == MessageKind.REMINDER else self._notice_card(view)

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


class MessengerLaneSender:
    """The messenger lane's sender: a composed message to the row's chat, through the messenger port."""

    def __init__(self, sender: MessageSender) -> None:
        self._sender = sender

    async def send(self, claimed: Claimed, payload: object) -> SentMessage:
        assert isinstance(payload, OutgoingMessage)
        return await self._sender.send(claimed.chat_id, payload)
