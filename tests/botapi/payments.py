"""Payments on the fake Bot API, as Bale offers them: sendInvoice in IRR, pre_checkout_query answered
with answerPreCheckoutQuery within 10 seconds, successful_payment, and Bale's inquireTransaction.

The control side plays the citizen paying an invoice (`FakePayments.pay`, `/control/pay`): it sends the
pre_checkout_query, waits for the answer, and if it is ok sends the successful_payment message, as
often as asked (Bale may repeat it). Field names follow Telegram's Bot API, which Bale copies; where
Bale's own documentation is silent, docs/bale.md "Payments" says what is assumed.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.botapi.params import as_bool, as_int
from tests.botapi.records import ChatMessage
from tests.botapi.rules import ApiError, bad_request, json_field, reply_markup

if TYPE_CHECKING:
    from tests.botapi.server import FakeBotAPI

# Reported as Bale's test provider token (wallet sandbox); any other token is refused by this fake.
TEST_PROVIDER_TOKEN = "WALLET-TEST-1111111111111111"
ANSWER_WITHIN = 10.0  # seconds a pre_checkout_query may wait for answerPreCheckoutQuery
PAYLOAD_LIMIT = 128  # bytes, Telegram's limit; Bale publishes none

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass
class SentInvoice:
    chat_id: int
    message_id: int
    title: str
    description: str
    payload: str
    currency: str
    amount: int
    label: str


@dataclass
class CheckoutAnswer:
    query_id: str
    ok: bool
    error_message: str | None
    latency: float  # seconds from the pre_checkout_query to its answer


@dataclass
class PayOutcome:
    """What the paying citizen saw: the checkout's answer, and the payment messages sent."""

    answered: bool
    ok: bool
    error_message: str | None
    latency: float | None
    transaction_id: str | None = None
    tracking_code: str | None = None
    updates: int = 0


class FakePayments:
    def __init__(self, api: FakeBotAPI, provider_token: str = TEST_PROVIDER_TOKEN) -> None:
        self._api = api
        self.provider_token = provider_token
        self.invoices: dict[tuple[int, int], SentInvoice] = {}
        self.answers: dict[str, CheckoutAnswer] = {}
        self.late: list[str] = []  # queries answered after ANSWER_WITHIN (refused, as Bale would)
        self.transactions: dict[str, dict[str, Any]] = {}
        self.inquiries: list[str] = []
        self.new_status = "succeed"  # the status inquireTransaction reports for new transactions
        self._asked: dict[str, tuple[float, asyncio.Event]] = {}
        self._query_ids = itertools.count(9_000_000_001)
        self._transaction_ids = itertools.count(40_000_001)

    def handler(self, method: str) -> Handler | None:
        return {"sendinvoice": self._send_invoice, "answerprecheckoutquery": self._answer,
                "inquiretransaction": self._inquire}.get(method.lower())

    # ---- Bot API methods ---------------------------------------------------------------------

    async def _send_invoice(self, params: dict[str, Any]) -> Any:
        api = self._api
        chat_id = api._chat(params)
        api._flood_check(chat_id)
        if chat_id in api._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        title, description = str(params.get("title") or ""), str(params.get("description") or "")
        payload = str(params.get("payload") or "")
        if not 1 <= len(title) <= 32:
            raise bad_request("INVOICE_TITLE_INVALID" if title else "title is empty")
        if not 1 <= len(description) <= 255:
            raise bad_request("INVOICE_DESCRIPTION_INVALID" if description else "description is empty")
        if not 1 <= len(payload.encode()) <= PAYLOAD_LIMIT:
            raise bad_request("INVOICE_PAYLOAD_INVALID")
        if params.get("provider_token") != self.provider_token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        if params.get("currency") != "IRR":  # Bale takes Rials only
            raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
        prices = json_field(params.get("prices"), "prices")
        if not isinstance(prices, list) or not prices:
            raise bad_request("can't parse prices JSON object")
        total = 0
        for price in prices:
            if not isinstance(price, dict) or not str(price.get("label") or ""):
                raise bad_request("can't parse prices JSON object")
            amount = price.get("amount")
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
            total += amount
        markup = reply_markup(params.get("reply_markup"))
        message = api._store(ChatMessage(message_id=next(api._message_ids[chat_id]), chat_id=chat_id, from_bot=True,
                                         date=int(time.time()), reply_markup=markup))
        self.invoices[(chat_id, message.message_id)] = SentInvoice(
            chat_id, message.message_id, title, description, payload, "IRR", total, str(prices[0]["label"]))
        body = api._message_json(message)
        body["invoice"] = {"title": title, "description": description, "start_parameter": "",
                           "currency": "IRR", "total_amount": total}
        return body

    async def _answer(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("pre_checkout_query_id") or "")
        asked = self._asked.get(query_id)
        if asked is None or query_id in self.answers:
            raise bad_request("QUERY_ID_INVALID")
        ok = as_bool(params.get("ok"))
        error_message = params.get("error_message")
        if not ok and not error_message:
            raise bad_request("error_message is required when ok is false")
        latency = time.monotonic() - asked[0]
        if latency > ANSWER_WITHIN:
            self.late.append(query_id)
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self.answers[query_id] = CheckoutAnswer(query_id, ok, str(error_message) if error_message else None, latency)
        asked[1].set()
        return True

    async def _inquire(self, params: dict[str, Any]) -> Any:
        transaction_id = str(params.get("transaction_id") or "")
        self.inquiries.append(transaction_id)
        found = self.transactions.get(transaction_id)
        if found is None:
            raise bad_request("transaction not found")
        return dict(found)

    # ---- the citizen's side ------------------------------------------------------------------

    def invoice(self, chat_id: int, message_id: int) -> SentInvoice:
        return self.invoices[(chat_id, message_id)]

    def invoices_in(self, chat_id: int) -> list[SentInvoice]:
        return [i for (chat, _), i in self.invoices.items() if chat == chat_id]

    async def pay(self, user_id: int, message_id: int, *, amount: int | None = None, repeat: int = 1,
                  timeout: float = ANSWER_WITHIN) -> PayOutcome:  # noqa: ASYNC109 - Bale's own deadline
        """The citizen pays the invoice in message `message_id`: checkout, then the payment message(s).

        `amount` forges the total the checkout reports; `repeat` sends successful_payment that many times.
        """
        api = self._api
        invoice = self.invoice(user_id, message_id)
        query_id = str(next(self._query_ids))
        answered = asyncio.Event()
        self._asked[query_id] = (time.monotonic(), answered)
        total = invoice.amount if amount is None else amount
        api._enqueue("pre_checkout_query", {"id": query_id, "from": api._users[user_id], "currency": invoice.currency,
                                            "total_amount": total, "invoice_payload": invoice.payload})
        try:
            await asyncio.wait_for(answered.wait(), timeout)
        except TimeoutError:
            return PayOutcome(answered=False, ok=False, error_message=None, latency=None)
        answer = self.answers[query_id]
        outcome = PayOutcome(answered=True, ok=answer.ok, error_message=answer.error_message, latency=answer.latency)
        if not answer.ok:
            return outcome
        outcome.transaction_id = str(next(self._transaction_ids))
        outcome.tracking_code = f"{outcome.transaction_id[::-1]}77"
        self.transactions[outcome.transaction_id] = {
            "id": outcome.transaction_id, "status": self.new_status, "userID": user_id, "amount": total,
            "createdAt": int(time.time())}
        for _ in range(repeat):
            message = api._incoming(user_id)
            body = api._message_json(message)
            body["successful_payment"] = {
                "currency": invoice.currency, "total_amount": total, "invoice_payload": invoice.payload,
                "telegram_payment_charge_id": outcome.transaction_id,
                "provider_payment_charge_id": outcome.tracking_code}
            api._enqueue("message", body)
            outcome.updates += 1
        return outcome


def add_routes(app: web.Application, api: FakeBotAPI) -> None:
    """POST /control/pay {"user_id", "message_id", "amount"?, "repeat"?} -> PayOutcome as JSON."""
    async def pay(request: web.Request) -> web.Response:
        data = await request.json()
        try:
            outcome = await api.payments.pay(as_int(data["user_id"], "user_id"), as_int(data["message_id"], "message_id"),
                                             amount=data.get("amount"), repeat=int(data.get("repeat", 1)))
        except KeyError as error:
            return web.json_response({"ok": False, "description": f"no invoice {error}"}, status=404)
        except ApiError as error:
            return web.json_response({"ok": False, "description": error.description}, status=400)
        return web.json_response({"ok": True, "outcome": asdict(outcome)})

    app.router.add_post("/control/pay", pay)
