"""Bale's updates made readable by aiogram and python-telegram-bot: what the libraries require and
Bale leaves out is filled in on the raw JSON, before either library parses it (polling and webhook
both go through `BotApiClient.parse`).

- `callback_query.chat_instance`: required by both libraries, absent on Bale, whose CallbackQuery
  has id, from, message and data only (bale-bot-sdk.efive.net/docs/objects/callbackquery;
  python-bale-bot's CallbackQuery, github.com/python-bale-bot/python-bale-bot bale/_callbackquery.py).
  Without it every tap would be unreadable. Filled with the chat's id (eblagh never reads it).
- `User.is_bot`, `User.first_name`, `Message.date`: required by the libraries; defaulted (False, "",
  0) in case Bale omits them (not seen in Bale's docs; a cheap guard).
- `Contact.phone_number` as a number (python-bale-bot types it `int`, bale/attachments/_contact.py):
  made a string; an Iranian mobile that lost its leading 0 (9121234567) still normalises.
- The older `forward_from` / `forward_from_chat` / `forward_date` (Bale's Message carries these,
  e.g. bale-bot-ts's Message type) become a `forward_origin`, which the libraries keep, so a
  forwarded contact is recognised as forwarded.

Pure: returns a new dict, never changes its argument.
"""

from __future__ import annotations

import copy
from typing import Any

_MESSAGE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post")


def tolerate(raw: dict[str, Any]) -> dict[str, Any]:
    update = copy.deepcopy(raw)
    for kind in _MESSAGE_KINDS:
        if isinstance(update.get(kind), dict):
            _message(update[kind])
    query = update.get("callback_query")
    if isinstance(query, dict):
        _user(query.get("from"))
        message = query.get("message")
        if isinstance(message, dict):
            _message(message)
        if not query.get("chat_instance"):
            chat = message.get("chat") if isinstance(message, dict) else None
            owner = chat if isinstance(chat, dict) else query.get("from")
            query["chat_instance"] = str(owner.get("id", "")) if isinstance(owner, dict) else ""
    return update


def _user(user: Any) -> None:
    if isinstance(user, dict):
        user.setdefault("is_bot", False)
        user.setdefault("first_name", "")


def _message(message: dict[str, Any]) -> None:
    message.setdefault("date", 0)
    _user(message.get("from"))
    contact = message.get("contact")
    if isinstance(contact, dict):
        if isinstance(contact.get("phone_number"), int | float) and not isinstance(contact["phone_number"], bool):
            contact["phone_number"] = str(int(contact["phone_number"]))
        contact.setdefault("first_name", "")
    _forward_origin(message)
    replied = message.get("reply_to_message")
    if isinstance(replied, dict):
        _message(replied)


def _forward_origin(message: dict[str, Any]) -> None:
    if "forward_origin" in message:
        return
    sender, chat = message.get("forward_from"), message.get("forward_from_chat")
    if sender is None and chat is None and message.get("forward_date") is None \
            and message.get("forward_sender_name") is None:
        return
    date = message.get("forward_date") or message.get("date") or 0
    if isinstance(sender, dict):
        _user(sender)
        message["forward_origin"] = {"type": "user", "date": date, "sender_user": sender}
    elif isinstance(chat, dict):
        message["forward_origin"] = {"type": "chat", "date": date, "sender_chat": chat}
    else:
        message["forward_origin"] = {"type": "hidden_user", "date": date,
                                     "sender_user_name": str(message.get("forward_sender_name") or "")}
