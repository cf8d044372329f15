"""Broadcasts (compose, preview as the citizen sees it, live progress, cancel), imports (upload,
preview, apply with progress) and the inbox (answer citizens' questions through the bot)."""

from __future__ import annotations

import html
import re

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from handlers import render, staff_texts
from handlers.outbox_cards import broadcast_card, segment_label
from services.broadcasts import (
    CASE_STATUSES,
    BroadcastError,
    BroadcastProblem,
    Segment,
    check_text,
    parse_time,
)
from services.dashboard_imports import KINDS, UploadError
from services.messaging import TEXT_LIMIT
from services.staff_accounts import Permission
from services.staff_inbox import REPLY_LIMIT, InboxError
from services.staff_sessions import ActiveSession
from web.staff.guard import requires
from web.staff.render import Pages
from web.staff.services import staff_services

_ALLOWED_TAGS = re.compile(r"&lt;(/?)(b|i|u|s|code)&gt;")


def as_shown(message_html: str) -> str:
    """A Telegram-HTML message as markup safe for the page: everything escaped, then the few formatting
    tags a message may carry let through (bold, italic, ...)."""
    return _ALLOWED_TAGS.sub(r"<\1\2>", html.escape(html.unescape(message_html), quote=False))


def _segment(kind: str, district: str, status: str) -> Segment:
    if kind == "district":
        return Segment.parse(f"district:{district.strip()}")
    if kind == "status":
        return Segment.parse(f"status:{status}")
    return Segment.parse("all")


def _problem(error: BroadcastError) -> str:
    template = staff_texts.BROADCAST_PROBLEMS[error.problem]
    if error.problem is BroadcastProblem.TEXT_TOO_LONG:
        return template.format(length=render.fa(error.detail))
    if error.problem is BroadcastProblem.UNKNOWN_STATUS:
        return template.format(statuses=", ".join(CASE_STATUSES))
    return template


def add_routes(router: APIRouter, pages: Pages) -> None:
    add_broadcast_routes(router, pages)
    add_import_routes(router, pages)
    add_inbox_routes(router, pages)


def add_broadcast_routes(router: APIRouter, pages: Pages) -> None:
    async def compose(request: Request, *, error: str = "", values: dict[str, str] | None = None,
                      status: int = 200) -> Response:
        districts = await staff_services(request).notices.districts()
        return pages.render(request, "staff/broadcast_new.html", status_code=status, error=error,
                            values=values or {"segment": "all"}, districts=districts, statuses=CASE_STATUSES,
                            limit=TEXT_LIMIT)

    @router.get("/broadcasts")
    async def broadcasts(request: Request, session: ActiveSession = requires(Permission.SEND_MESSAGES),
                         created: int | None = None) -> Response:
        rows = await staff_services(request).broadcasts.recent()
        return pages.render(request, "staff/broadcasts.html", rows=rows, created=created,
                            label=lambda raw: segment_label(Segment.parse(raw)))

    @router.get("/broadcasts/new")
    async def new_broadcast(request: Request, session: ActiveSession = requires(Permission.SEND_MESSAGES)) -> Response:
        return await compose(request)

    @router.post("/broadcasts/preview")
    async def preview(request: Request, session: ActiveSession = requires(Permission.SEND_MESSAGES),
                      text: str = Form(""), segment: str = Form("all"), district: str = Form(""),
                      status: str = Form(""), at: str = Form("")) -> Response:
        values = {"text": text, "segment": segment, "district": district, "status": status, "at": at}
        try:
            chosen = _segment(segment, district, status)
            body = check_text(render.printable(text))
            when = parse_time(at) if at.strip() else None
        except BroadcastError as error:
            return await compose(request, error=_problem(error), values=values, status=400)
        count = await staff_services(request).broadcasts.count_recipients(chosen)
        return pages.render(request, "staff/broadcast_preview.html", values=values, segment=str(chosen),
                            segment_label=segment_label(chosen), count=count, when=when,
                            shown=as_shown(broadcast_card(body).html))

    @router.post("/broadcasts")
    async def create(request: Request, session: ActiveSession = requires(Permission.SEND_MESSAGES),
                     text: str = Form(""), segment: str = Form("all"), at: str = Form("")) -> Response:
        services = staff_services(request)
        try:
            chosen = Segment.parse(segment)
            when = parse_time(at) if at.strip() else None
            progress = await services.broadcasts.create(text=render.printable(text), segment=chosen, at=when,
                                                        created_by=session.member.actor)
        except BroadcastError as error:
            return await compose(request, error=_problem(error), values={"text": text, "segment": "all"}, status=400)
        return RedirectResponse(f"/staff/broadcasts?created={progress.id}", status_code=303)

    @router.get("/broadcasts/{broadcast_id}/progress")
    async def progress(request: Request, broadcast_id: int,
                       session: ActiveSession = requires(Permission.SEND_MESSAGES)) -> Response:
        found = await staff_services(request).broadcasts.status(broadcast_id)
        if found is None:
            raise HTTPException(404, "no such broadcast")
        return pages.render(request, "staff/_broadcast_progress.html", p=found)

    @router.post("/broadcasts/{broadcast_id}/cancel")
    async def cancel(request: Request, broadcast_id: int,
                     session: ActiveSession = requires(Permission.SEND_MESSAGES)) -> Response:
        await staff_services(request).broadcasts.cancel(broadcast_id, by=session.member.actor)
        if request.headers.get("hx-request"):
            return await progress(request, broadcast_id, session)
        return RedirectResponse("/staff/broadcasts", status_code=303)


def add_import_routes(router: APIRouter, pages: Pages) -> None:
    @router.get("/imports")
    async def imports(request: Request, session: ActiveSession = requires(Permission.IMPORT_DATA),
                      error: str = "") -> Response:
        uploads = await staff_services(request).imports.recent()
        return pages.render(request, "staff/imports.html", uploads=uploads, kinds=KINDS,
                            error=staff_texts.DASHBOARD_UPLOAD_PROBLEMS.get(error, ""))

    @router.post("/imports")
    async def upload(request: Request, session: ActiveSession = requires(Permission.IMPORT_DATA),
                     kind: str = Form(""), file: UploadFile | None = File(None)) -> Response:
        if file is None or not file.filename:
            return RedirectResponse("/staff/imports?error=no_file", status_code=303)
        content = await file.read()
        try:
            view = await staff_services(request).imports.preview(kind, file.filename, content, session.member)
        except UploadError as error:
            return RedirectResponse(f"/staff/imports?error={error}", status_code=303)
        return RedirectResponse(f"/staff/imports/{view.id}", status_code=303)

    @router.get("/imports/{upload_id}")
    async def upload_page(request: Request, upload_id: int,
                          session: ActiveSession = requires(Permission.IMPORT_DATA)) -> Response:
        view = await staff_services(request).imports.get(upload_id)
        if view is None:
            raise HTTPException(404, "no such upload")
        return pages.render(request, "staff/import_preview.html", u=view)

    @router.post("/imports/{upload_id}/apply")
    async def apply(request: Request, upload_id: int,
                    session: ActiveSession = requires(Permission.IMPORT_DATA)) -> Response:
        try:
            await staff_services(request).imports.apply(upload_id, session.member)
        except UploadError as error:
            return RedirectResponse(f"/staff/imports?error={error}", status_code=303)
        return RedirectResponse(f"/staff/imports/{upload_id}", status_code=303)

    @router.get("/imports/{upload_id}/progress")
    async def import_progress(request: Request, upload_id: int,
                              session: ActiveSession = requires(Permission.IMPORT_DATA)) -> Response:
        view = await staff_services(request).imports.get(upload_id)
        if view is None:
            raise HTTPException(404, "no such upload")
        return pages.render(request, "staff/_import_progress.html", u=view)


def add_inbox_routes(router: APIRouter, pages: Pages) -> None:
    async def inbox_page(request: Request, *, error: str = "", sent: int | None = None, status: int = 200) -> Response:
        services = staff_services(request)
        return pages.render(request, "staff/inbox.html", status_code=status, questions=await services.inbox.questions(),
                            replies=await services.inbox.replies(), error=error, sent=sent, limit=REPLY_LIMIT)

    @router.get("/inbox")
    async def inbox(request: Request, session: ActiveSession = requires(Permission.SEND_MESSAGES),
                    sent: int | None = None) -> Response:
        return await inbox_page(request, sent=sent)

    @router.get("/inbox/replies")
    async def replies(request: Request, session: ActiveSession = requires(Permission.SEND_MESSAGES)) -> Response:
        return pages.render(request, "staff/_replies.html", replies=await staff_services(request).inbox.replies())

    @router.post("/inbox/{handoff_id}/reply")
    async def reply(request: Request, handoff_id: int, session: ActiveSession = requires(Permission.SEND_MESSAGES),
                    text: str = Form("")) -> Response:
        try:
            queued = await staff_services(request).inbox.send_staff_reply(handoff_id, render.printable(text),
                                                                         session.member)
        except InboxError as error:
            return await inbox_page(request, error=staff_texts.DASHBOARD_REPLY_PROBLEMS[str(error)], status=400)
        return RedirectResponse(f"/staff/inbox?sent={queued.reply_id}", status_code=303)
