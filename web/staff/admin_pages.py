"""Admin pages: the team (staff accounts), the audit log, and the integration API's keys and webhooks."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from handlers import staff_texts
from services.law.calendar import parse_date
from services.staff_accounts import Permission, Role, StaffError
from services.staff_sessions import ActiveSession
from web.staff.guard import requires
from web.staff.integration import API_ROLES, KeyRefused
from web.staff.render import Pages
from web.staff.services import staff_services


def _day(raw: str) -> date | None:
    try:
        return parse_date(raw) if raw.strip() else None
    except ValueError:
        return None


def add_routes(router: APIRouter, pages: Pages) -> None:
    async def team_page(request: Request, *, error: str = "", enrolment: object = None, status: int = 200) -> Response:
        accounts = await staff_services(request).accounts.list()
        return pages.render(request, "staff/team.html", status_code=status, accounts=accounts, roles=list(Role),
                            error=error, enrolment=enrolment)

    @router.get("/team")
    async def team(request: Request, session: ActiveSession = requires(Permission.MANAGE_TEAM)) -> Response:
        return await team_page(request)

    @router.post("/team")
    async def add_member(request: Request, session: ActiveSession = requires(Permission.MANAGE_TEAM),
                         username: str = Form(""), role: str = Form("viewer")) -> Response:
        accounts = staff_services(request).accounts
        try:
            chosen = Role(role)
            if username.strip().lower() in {a.username for a in await accounts.list()}:
                return await team_page(request, error=staff_texts.DASHBOARD_TEAM_PROBLEMS["exists"], status=400)
            enrolment = await accounts.add(username, chosen, by=session.member.actor)
        except (ValueError, StaffError):
            return await team_page(request, error=staff_texts.DASHBOARD_TEAM_PROBLEMS["bad_name"], status=400)
        return await team_page(request, enrolment=enrolment)

    @router.post("/team/{username}/disable")
    async def disable(request: Request, username: str,
                      session: ActiveSession = requires(Permission.MANAGE_TEAM)) -> Response:
        if username == session.member.username:
            return await team_page(request, error=staff_texts.DASHBOARD_TEAM_PROBLEMS["self"], status=400)
        try:
            await staff_services(request).accounts.disable(username, by=session.member.actor)
        except StaffError:
            return await team_page(request, error=staff_texts.DASHBOARD_TEAM_PROBLEMS["unknown"], status=404)
        return RedirectResponse("/staff/team", status_code=303)

    @router.post("/team/{username}/reset")
    async def reset(request: Request, username: str,
                    session: ActiveSession = requires(Permission.MANAGE_TEAM)) -> Response:
        try:
            enrolment = await staff_services(request).accounts.reset(username, by=session.member.actor)
        except StaffError:
            return await team_page(request, error=staff_texts.DASHBOARD_TEAM_PROBLEMS["unknown"], status=404)
        return await team_page(request, enrolment=enrolment)

    @router.get("/audit")
    async def audit(request: Request, session: ActiveSession = requires(Permission.MANAGE_TEAM),
                    actor: str = "", action: str = "", since: str = "", until: str = "", page: int = 1) -> Response:
        result = await staff_services(request).audit.page(actor=actor[:64], action=action[:64], since=_day(since),
                                                          until=_day(until), page=page)
        return pages.render(request, "staff/audit.html", result=result,
                            filters={"actor": actor, "action": action, "since": since, "until": until})

    async def integration_page(request: Request, *, new_key: str | None = None, error: str = "", done: str = "",
                               status: int = 200) -> Response:
        port = staff_services(request).integration
        keys = await port.keys() if port is not None else []
        hooks = await port.webhooks() if port is not None else []
        return pages.render(request, "staff/integration.html", status_code=status, available=port is not None,
                            keys=keys, hooks=hooks, roles=API_ROLES, new_key=new_key, error=error, done=done)

    @router.get("/integration")
    async def integration(request: Request, session: ActiveSession = requires(Permission.MANAGE_API_KEYS),
                          done: str = "") -> Response:
        messages = {"revoked": staff_texts.DASHBOARD_KEY_REVOKED, "replayed": staff_texts.DASHBOARD_REPLAY_QUEUED}
        return await integration_page(request, done=messages.get(done, ""))

    @router.post("/integration/keys")
    async def create_key(request: Request, session: ActiveSession = requires(Permission.MANAGE_API_KEYS),
                         name: str = Form(""), role: str = Form("read"), test: str = Form("")) -> Response:
        port = staff_services(request).integration
        if port is None:
            return RedirectResponse("/staff/integration", status_code=303)
        try:
            new_key = await port.create_key(name.strip(), role, by=session.member.actor, test=bool(test))
        except KeyRefused as refused:
            return await integration_page(request, error=staff_texts.DASHBOARD_KEY_PROBLEMS[refused.reason],
                                          status=400)
        # rendered, not redirected: the key in full exists only in this response
        return await integration_page(request, new_key=new_key)

    @router.post("/integration/keys/{key_id}/revoke")
    async def revoke_key(request: Request, key_id: int,
                         session: ActiveSession = requires(Permission.MANAGE_API_KEYS)) -> Response:
        port = staff_services(request).integration
        if port is not None and await port.revoke_key(key_id, by=session.member.actor):
            return RedirectResponse("/staff/integration?done=revoked", status_code=303)
        return RedirectResponse("/staff/integration", status_code=303)

    @router.post("/integration/deliveries/{delivery_id}/replay")
    async def replay(request: Request, delivery_id: int,
                     session: ActiveSession = requires(Permission.MANAGE_API_KEYS)) -> Response:
        port = staff_services(request).integration
        if port is None or not await port.replay(delivery_id, by=session.member.actor):
            return await integration_page(request, error=staff_texts.DASHBOARD_REPLAY_UNKNOWN, status=404)
        return RedirectResponse("/staff/integration?done=replayed", status_code=303)
