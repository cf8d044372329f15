"""One path from an incoming event to what is sent, shared by the shell and the messenger runners."""

from __future__ import annotations

import logging

from bot.app import App
from handlers.events import Event, Response
from services.messaging import MessageSender, SendError

log = logging.getLogger(__name__)


async def dispatch(app: App, event: Event, sender: MessageSender) -> Response:
    """Handle the event, send the replies (and messages for other chats), return the response.

    The caller answers a tap with `response.tap_answer`; the transport knows how.
    """
    chat = event.chat
    await app.delivery.chat_wrote_again(chat.platform, chat.chat_id)
    response = await app.conversation.handle(event)
    for message in response.messages:
        try:
            await sender.send(chat.chat_id, message)
        except SendError as error:
            log.warning("reply to chat %s not sent: %s", chat.chat_id, type(error).__name__)
            break
    if response.to_staff is not None and app.staff_chat_id is not None:
        handoff_id, message = response.to_staff
        try:
            sent = await sender.send(app.staff_chat_id, message)
            await app.handoffs.forwarded(handoff_id, app.staff_chat_id, sent.message_id)
        except SendError as error:
            log.warning("question #%s not forwarded to staff: %s", handoff_id, type(error).__name__)
    for platform, chat_id, message in response.others:
        if platform != sender.platform:
            log.warning("no sender for platform %s; message to another chat dropped", platform)
            continue
        try:
            await sender.send(chat_id, message)
        except SendError as error:
            log.warning("message to chat %s not sent: %s", chat_id, type(error).__name__)
    return response
