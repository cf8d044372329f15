"""Who may open a /staff route: one dependency per route, named by what it allows.

`requires(Permission.X)` resolves the session cookie, sends a signed-out browser to the login page,
a person who must still change the password to that page, answers 403 when the role lacks X, and
checks the CSRF token of every POST (form field `csrf_token` or header `X-CSRF-Token`).
`public()` marks the few routes open without a session (login, static files). A test checks that every
/staff route declares exactly one of the two.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Depends, HTTPException, Request

from services.staff_accounts import Permission
from services.staff_sessions import ActiveSession
from web.staff.services import staff_services

SESSION_COOKIE = "eblagh_staff"
LOGIN_CSRF_COOKIE = "eblagh_staff_login"
PASSWORD_PATH = "/staff/password"


class LoginRequired(HTTPException):
    def __init__(self) -> None:
        super().__init__(303, "sign in first", headers={"Location": "/staff/login"})


async def csrf_ok(request: Request, expected: str) -> bool:
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    return bool(sent) and secrets.compare_digest(sent or "", expected)


class Requires:
    """The dependency behind `requires`: returns the active session."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, request: Request) -> ActiveSession:
        services = staff_services(request)
        session = await services.sessions.resolve(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise LoginRequired()
        if request.method == "POST" and not await csrf_ok(request, session.csrf_token):
            raise HTTPException(403, "CSRF token missing or wrong")
        if session.member.must_change_password and request.url.path != PASSWORD_PATH:
            raise HTTPException(303, "change the password first", headers={"Location": PASSWORD_PATH})
        if not session.member.can(self.permission):
            raise HTTPException(403, f"needs {self.permission.value}")
        request.state.staff_session = session
        return session


class Public:
    """The dependency behind `public`: no session needed; POSTs still carry the login form's token."""

    async def __call__(self, request: Request) -> None:
        if request.method == "POST":
            cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
            if not cookie or not await csrf_ok(request, cookie):
                raise HTTPException(403, "CSRF token missing or wrong")


def requires(permission: Permission) -> Any:
    return Depends(Requires(permission))


def public() -> Any:
    return Depends(Public())
