"""The staff dashboard under /staff: server-rendered Persian pages (Jinja2), htmx for the live parts,
Chart.js for the charts, the Vazirmatn font; all served from web/static.

The composition root includes `build_staff_router()` and puts `staff_extras(services)` into
`WebDeps.extra` (the services, and the dashboard's HTML error pages).
"""

from __future__ import annotations

from web.staff.errors import error_pages
from web.staff.render import Pages
from web.staff.router import build_staff_router
from web.staff.services import StaffServices

__all__ = ["StaffServices", "build_staff_router", "staff_extras"]


def staff_extras(services: StaffServices) -> dict[str, object]:
    return {"staff": services, "html_errors": error_pages(Pages())}
