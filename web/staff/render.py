"""Rendering the dashboard's pages: one Jinja2 environment, filters for Persian digits and Jalali dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from handlers import staff_texts, texts
from nlp.digits import to_persian_digits
from services.law.calendar import jalali_date, jalali_date_long, jalali_datetime, tehran_date, to_tehran
from services.staff_accounts import Permission

# Nothing loads from outside the server, and no inline script or style runs.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"


def fa_number(value: object) -> str:
    """Persian digits, thousands grouped with the Persian separator."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return to_persian_digits(f"{value:,}".replace(",", "٬"))
    return to_persian_digits(str(value))


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return to_persian_digits(f"{value * 100:.{digits}f}".replace(".", "٫")) + "٪"


def jdate(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    return jalali_date(tehran_date(value) if isinstance(value, datetime) else value)


def jdate_long(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    return jalali_date_long(tehran_date(value) if isinstance(value, datetime) else value)


def jtime(value: datetime | None) -> str:
    return jalali_datetime(value) if value is not None else "—"


def iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def tehran_iso(value: datetime | None) -> str:
    return to_tehran(value).isoformat(timespec="minutes") if value is not None else ""


def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return to_persian_digits(str(minutes)) + " دقیقه"
    hours = minutes // 60
    if hours < 48:
        return to_persian_digits(str(hours)) + " ساعت"
    return to_persian_digits(str(hours // 24)) + " روز"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(fa=fa_number, pct=percent, jdate=jdate, jdate_long=jdate_long, jtime=jtime, iso=iso,
                       tehran_iso=tehran_iso, duration=duration)
    env.globals.update(T=staff_texts, CASE_STATUS=texts.CASE_STATUS, RULING_KIND=texts.RULING_KIND,
                       COMMISSION=texts.COMMISSION, Permission=Permission)
    return env


class Pages:
    def __init__(self) -> None:
        self.env = environment()

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        session = getattr(request.state, "staff_session", None)
        html = self.env.get_template(template).render(
            request=request, session=session, member=session.member if session else None,
            csrf=session.csrf_token if session else context.pop("login_csrf", ""), path=request.url.path,
            **context)
        response = HTMLResponse(html, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
