"""What the worker sends besides notice cards: a broadcast's text, and the reminder before deemed service."""

from __future__ import annotations

from handlers import staff_texts, texts
from handlers.callbacks import Action, encode
from handlers.render import day_long, esc, fa
from services.broadcasts import Segment
from services.law.calendar import tehran_date
from services.messaging import Button, OutgoingMessage
from services.notices import NoticeView


def broadcast_card(text: str) -> OutgoingMessage:
    """Staff write plain text: it is escaped, so `<` and `&` arrive as written."""
    return OutgoingMessage(esc(text))


def staff_reply_card(answer: str) -> OutgoingMessage:
    """An answer written in the dashboard's inbox, as a reply in the staff chat reaches the citizen."""
    return OutgoingMessage(texts.STAFF_REPLY_TO_CITIZEN.format(answer=esc(answer)))


def reminder_card(view: NoticeView) -> OutgoingMessage:
    deemed_at = view.service.deemed_at
    deadline = day_long(tehran_date(deemed_at)) if deemed_at is not None else "—"
    body = staff_texts.REMINDER.format(case_number=fa(view.case_number), deadline=deadline)
    button = Button(texts.BUTTON_OPEN_NOTICE, encode(Action.OPEN_NOTICE, view.notice_id))
    return OutgoingMessage(body, buttons=((button,),))


def segment_label(segment: Segment) -> str:
    if segment.kind == "district":
        return staff_texts.SEGMENT_DISTRICT.format(district=fa(segment.value))
    if segment.kind == "status":
        status = str(segment.value)
        return staff_texts.SEGMENT_STATUS.format(status=esc(texts.CASE_STATUS.get(status, status)))
    return staff_texts.SEGMENT_ALL
