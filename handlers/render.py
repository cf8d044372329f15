"""Turning use-case results into HTML messages: escaping, Persian digits, Jalali dates."""

from __future__ import annotations

import html
import unicodedata
from datetime import date, datetime

from handlers import texts
from handlers.callbacks import Action, encode
from nlp.digits import to_persian_digits
from services.law.calendar import format_rials, jalali_date, jalali_date_long, jalali_datetime, tehran_date
from services.law.policy import ServiceInfo
from services.law.service_dates import ServiceKind
from services.messaging import Button, OutgoingMessage
from services.notices import NoticeView


def esc(value: object) -> str:
    """Escape any dynamic value for Telegram HTML, so `<`, `>` and `&` show as written."""
    return html.escape(str(value), quote=False)


def printable(text: str) -> str:
    """Text a person wrote, without control characters (newline and tab kept) or lone surrogates,
    before it is stored, forwarded or echoed back."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))


def fa(value: object) -> str:
    """Escaped, with Persian digits."""
    return esc(to_persian_digits(str(value)))


def kind_label(kind: str) -> str:
    return texts.RULING_KIND.get(kind, texts.RULING_KIND["other"])


def commission_label(commission: str) -> str:
    return texts.COMMISSION.get(commission, commission)


def day_long(d: date) -> str:
    return jalali_date_long(d)


def moment(dt: datetime) -> str:
    return jalali_datetime(dt)


def notice_card(view: NoticeView) -> OutgoingMessage:
    """The pushed message: what the ruling is, without its text; a button opens it."""
    body = texts.NOTICE_CARD.format(
        commission=esc(commission_label(view.commission)),
        case_number=fa(view.case_number),
        kind=esc(kind_label(view.kind)),
        issued=jalali_date(view.issued_on),
    )
    if view.viewed_at is None:
        body += texts.NOTICE_CARD_UNOPENED
        if view.service.deemed_at is not None and view.service.kind is ServiceKind.PENDING:
            body += texts.NOTICE_CARD_DEEMED_AT.format(deadline=day_long(tehran_date(view.service.deemed_at)))
        label = texts.BUTTON_OPEN_NOTICE
    else:
        body += texts.NOTICE_CARD_OPENED.format(viewed=moment(view.viewed_at))
        label = texts.BUTTON_OPEN_AGAIN
    return OutgoingMessage(body, buttons=((Button(label, encode(Action.OPEN_NOTICE, view.notice_id)),),))


def full_text(view: NoticeView, text: str) -> OutgoingMessage:
    """The ruling's text as written, under its header; the messenger port splits it when long."""
    header = texts.FULL_TEXT_HEADER.format(
        case_number=fa(view.case_number), commission=esc(commission_label(view.commission)),
        kind=esc(kind_label(view.kind)), issued=jalali_date(view.issued_on),
    )
    return OutgoingMessage(header + esc(text.strip()))


def service_summary(view: NoticeView, *, just_recorded: bool, appeal_days: int) -> str:
    """Where the citizen stands in law after opening a ruling: service, deadline, what to do."""
    info = view.service
    lines: list[str] = []
    if view.fine_amount_rials:
        lines.append(texts.FINE_LINE.format(amount=esc(format_rials(view.fine_amount_rials))))
    if info.service_at is not None:
        when = moment(info.service_at)
        if just_recorded and info.kind is ServiceKind.VIEWED:
            lines.append(texts.SERVICE_RECORDED_NOW.format(when=when))
        elif info.kind is ServiceKind.VIEWED:
            lines.append(texts.SERVICE_VIEWED.format(when=when))
        elif info.kind is ServiceKind.DEEMED:
            lines.append(texts.SERVICE_DEEMED.format(when=when))
        else:
            lines.append(texts.SERVICE_DELIVERY.format(when=when))
    if info.appeal_deadline is not None:
        deadline = texts.APPEAL_DEADLINE.format(deadline=day_long(info.appeal_deadline), days=fa(appeal_days))
        lines.append(deadline + deadline_caveat(info))
        lines.append(texts.APPEAL_HOWTO)
    if info.court_deadline is not None:
        lines.append(texts.FINAL_RULING.format(deadline=day_long(info.court_deadline)))
    return "\n\n".join(lines)


def deadline_caveat(info: ServiceInfo) -> str:
    """The warning to add under an appeal deadline that may still move ("" when it is certain)."""
    if info.deadline_estimated:
        return texts.APPEAL_DEADLINE_ESTIMATED
    if not info.deadline_certain:
        return texts.APPEAL_DEADLINE_UNCERTAIN
    return ""


def main_menu() -> tuple[tuple[Button, ...], ...]:
    return ((Button(texts.BUTTON_MY_NOTICES, encode(Action.LIST_NOTICES)),
             Button(texts.BUTTON_HELP, encode(Action.HELP))),)


def notice_list(views: list[NoticeView], limit: int = 20) -> OutgoingMessage:
    if not views:
        return OutgoingMessage(texts.NOTICES_EMPTY, buttons=main_menu())
    shown = views[:limit]
    body = texts.NOTICES_HEADER
    buttons = []
    for index, view in enumerate(shown, start=1):
        state = texts.NOTICE_STATE_OPENED if view.viewed_at else texts.NOTICE_STATE_UNOPENED
        body += texts.NOTICES_LINE.format(index=fa(index), case_number=fa(view.case_number),
                                          kind=esc(kind_label(view.kind)), issued=jalali_date(view.issued_on),
                                          state=state)
        label = texts.button_notice(to_persian_digits(view.case_number), kind_label(view.kind))
        buttons.append((Button(label, encode(Action.OPEN_NOTICE, view.notice_id)),))
    if len(views) > limit:
        body += texts.NOTICES_MORE.format(shown=fa(limit))
    return OutgoingMessage(body, buttons=tuple(buttons))
