"""Signing in and out, and the password change required at first login."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from handlers import staff_texts
from services.staff_accounts import MIN_PASSWORD, LoginOutcome, Permission, StaffError
from services.staff_sessions import ActiveSession
from web.staff.guard import LOGIN_CSRF_COOKIE, SESSION_COOKIE, public, requires
from web.staff.render import Pages, jtime
from web.staff.services import staff_services


def add_routes(router: APIRouter, pages: Pages) -> None:
    def login_page(request: Request, error: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        response = pages.render(request, "staff/login.html", status_code=status, login_csrf=token, error=error)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/staff",
                            secure=staff_services(request).secure_cookies)
        return response

    @router.get("/login", dependencies=[public()])
    async def login_form(request: Request) -> Response:
        return login_page(request)

    @router.post("/login", dependencies=[public()])
    async def login(request: Request, username: str = Form(""), password: str = Form(""),
                    otp: str = Form("")) -> Response:
        services = staff_services(request)
        source = request.client.host if request.client else ""
        result = await services.accounts.login(username[:100], password[:1000], otp[:20], source=source)
        if result.outcome is LoginOutcome.LOCKED:
            return login_page(request, staff_texts.DASHBOARD_LOGIN_LOCKED.format(until=jtime(result.locked_until)),
                              status=429)
        if result.outcome is not LoginOutcome.OK or result.member is None:
            return login_page(request, staff_texts.DASHBOARD_LOGIN_REFUSED, status=401)
        session = await services.sessions.open(result.member)
        target = "/staff/password" if result.member.must_change_password else "/staff/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="strict", path="/staff",
                            secure=services.secure_cookies)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff")
        return response

    @router.post("/logout")
    async def logout(request: Request, session: ActiveSession = requires(Permission.VIEW_ACTIVITY)) -> Response:
        services = staff_services(request)
        await services.sessions.close(session.token)
        await services.audit.record(actor=session.member.actor, action="staff.logout")
        response = RedirectResponse("/staff/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/staff")
        return response

    @router.get("/password")
    async def password_form(request: Request, session: ActiveSession = requires(Permission.VIEW_ACTIVITY)) -> Response:
        return pages.render(request, "staff/password.html", minimum=MIN_PASSWORD, error="")

    @router.post("/password")
    async def change_password(request: Request, session: ActiveSession = requires(Permission.VIEW_ACTIVITY),
                              current: str = Form(""), new: str = Form(""), repeat: str = Form("")) -> Response:
        problems = staff_texts.DASHBOARD_PASSWORD_PROBLEMS
        error = ""
        if new != repeat:
            error = problems["mismatch"]
        elif len(new) < MIN_PASSWORD:
            error = problems["short"]
        elif new == current:
            error = problems["same"]
        else:
            try:
                await staff_services(request).accounts.change_password(session.member.id, current, new)
            except StaffError:
                error = problems["wrong"]
        if error:
            return pages.render(request, "staff/password.html", status_code=400, minimum=MIN_PASSWORD, error=error)
        return RedirectResponse("/staff/", status_code=303)
