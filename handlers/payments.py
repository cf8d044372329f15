"""Paying a fine in the chat (Bale): the «💳 پرداخت جریمه» button, the invoice, the pre-checkout
verdict, and the answer to successful_payment.

Only wired when BALE_PAYMENT_PROVIDER_TOKEN is set. The button's data is a notice id and, like every
tap, is checked against the tapping chat's own citizen before anything is invoiced.
"""

from __future__ import annotations

from handlers import render, texts
from handlers.callbacks import Action, Tap, encode, notice_id_of
from handlers.events import Chat, CommandReceived, PaymentSucceeded, PreCheckout, Response, TextReceived
from nlp.digits import to_persian_digits
from services.law.calendar import format_rials
from services.messaging import Button, Invoice, OutgoingMessage
from services.payments import CURRENCY, Invoiced, PaymentService, StartRefusal, Verdict

_REFUSAL_TEXT = {Verdict.PAID: texts.PRECHECKOUT_PAID, Verdict.CHANGED: texts.PRECHECKOUT_CHANGED,
                 Verdict.UNKNOWN: texts.PRECHECKOUT_UNKNOWN}


def pay_button(notice_id: int) -> tuple[Button, ...]:
    return (Button(texts.BUTTON_PAY_FINE, encode(Action.PAY, notice_id)),)


class PaymentFlow:
    """A conversation plugin (the pay tap), plus what the runner asks for payment updates."""

    def __init__(self, service: PaymentService) -> None:
        self._service = service

    async def command(self, event: CommandReceived) -> Response | None:
        return None

    async def text(self, event: TextReceived) -> Response | None:
        return None

    async def tap(self, chat: Chat, action: Action, payload: str, citizen_id: int | None) -> Response | None:
        if action is not Action.PAY:
            return None
        notice_id = notice_id_of(Tap(action, payload))
        if notice_id is None:
            return Response(tap_answer=texts.UNKNOWN_BUTTON)
        if citizen_id is None:
            return Response([OutgoingMessage(texts.NEED_LOGIN)], tap_answer=texts.NEED_LOGIN)
        started = await self._service.start(citizen_id=citizen_id, notice_id=notice_id, platform=chat.platform,
                                            chat_id=chat.user_id, user_id=chat.user_id)
        if started is StartRefusal.NOT_YOURS:
            return Response(tap_answer=texts.NOTICE_NOT_YOURS)
        if started is StartRefusal.NO_FINE:
            return Response([OutgoingMessage(texts.PAY_NO_FINE)], tap_answer="")
        if started is StartRefusal.NOTHING_DUE:
            return Response([OutgoingMessage(texts.PAY_NOTHING_DUE)], tap_answer="")
        assert isinstance(started, Invoiced)
        invoice = _invoice(started)
        message = OutgoingMessage(texts.INVOICE_TERMINAL.format(
            title=render.esc(invoice.title), amount=render.esc(format_rials(started.amount_rials))), invoice=invoice)
        if chat.chat_id == chat.user_id:
            return Response([message], tap_answer=texts.INVOICE_SENT)
        # A tap in a group: the invoice goes to the citizen's private chat only.
        return Response(others=[(chat.platform, chat.user_id, message)], tap_answer=texts.INVOICE_SENT)

    async def pre_checkout(self, event: PreCheckout) -> str | None:
        """None to let the checkout go ahead, else the Persian reason to refuse it."""
        verdict = await self._service.verdict(payload=event.payload, user_id=event.chat.user_id,
                                              currency=event.currency, amount=event.total_amount)
        return None if verdict is Verdict.OK else _REFUSAL_TEXT[verdict]

    async def succeeded(self, event: PaymentSucceeded) -> Response:
        recorded = await self._service.record(
            payload=event.payload, user_id=event.chat.user_id, currency=event.currency, amount=event.total_amount,
            transaction_id=event.transaction_id, tracking_code=event.tracking_code)
        if recorded is None:
            return Response([OutgoingMessage(texts.PAYMENT_UNPLACED.format(tracking=render.fa(event.tracking_code)))])
        if not recorded.first:
            return Response()  # Bale repeated the update: recorded and answered the first time
        return Response([OutgoingMessage(texts.PAYMENT_RECORDED.format(
            case_number=render.fa(recorded.case_number), amount=render.esc(format_rials(recorded.amount_rials)),
            tracking=render.fa(recorded.tracking_code), when=render.moment(recorded.paid_at)))])


def _invoice(started: Invoiced) -> Invoice:
    number = to_persian_digits(started.case_number)  # plain text: the invoice is not HTML
    return Invoice(title=texts.INVOICE_TITLE.format(case_number=number)[:32],
                   description=texts.INVOICE_DESCRIPTION.format(case_number=number)[:255],
                   payload=started.token, label=texts.INVOICE_LABEL, amount=started.amount_rials, currency=CURRENCY)
