"""One path from an incoming event to what is sent, shared by the shell and the messenger runners."""

from __future__ import annotations

import logging

from bot.app import App
from handlers import render, texts
from handlers.events import ButtonTapped, Event, Response
from services.conversation.flood import Admission
from services.messaging import MessageSender, OutgoingMessage, SendError

log = logging.getLogger(__name__)


async def dispatch(app: App, event: Event, sender: MessageSender) -> Response:
    """Handle the event, send the replies (and messages for other chats), return the response.

    The caller answers a tap with `response.tap_answer`; the transport knows how.
    """
    chat = event.chat
    # Everything the update reads and writes shares one database connection; the sends come after it.
    async with app.runtime.database.unit():
        held = await _flood_guard(app, event)
        if held is None:
            citizen_id = await app.outgoing.chat_wrote_again(chat.platform, chat.chat_id)
            response = await app.conversation.handle(event, citizen_id)
    if held is not None:
        for note in held.messages:
            try:
                await sender.send(chat.chat_id, note)
            except SendError as error:
                log.warning("slow-down note to chat %s not sent: %s", chat.chat_id, type(error).__name__)
        return held
    for message in response.messages:
        try:
            await sender.send(chat.chat_id, message)
        except SendError as error:
            log.warning("reply to chat %s not sent: %s", chat.chat_id, type(error).__name__)
            break
    for platform, chat_id, message in response.others:
        if platform != sender.platform:
            log.warning("no sender for platform %s; message to another chat dropped", platform)
            continue
        try:
            await sender.send(chat_id, message)
        except SendError as error:
            log.warning("message to chat %s not sent: %s", chat_id, type(error).__name__)
    return response


async def _flood_guard(app: App, event: Event) -> Response | None:
    """None to go on; else what a flooding chat gets instead: one slow-down note (sent by the caller), then nothing.

    A tap is still answered (the caller answers with `tap_answer`), so the client stops spinning.
    """
    chat = event.chat
    verdict = await app.flood.admit(chat.platform, chat.chat_id)
    if verdict.admission is Admission.PASS:
        return None
    tapped = isinstance(event, ButtonTapped)
    if verdict.admission is Admission.DROP:
        return Response(tap_answer="" if tapped else None)
    log.info("chat %s writes too fast; ignored for %ss", chat.chat_id, verdict.seconds_left(app.flood.now()))
    note = OutgoingMessage(texts.SLOW_DOWN.format(seconds=render.fa(verdict.seconds_left(app.flood.now()))))
    return Response([note], tap_answer=texts.SLOW_DOWN_TAP if tapped else None)
