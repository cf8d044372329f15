"""What the dashboard's pages need, built once by the composition root (bot/web_app.py) or a test."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from services.audit_log import AuditLog
from services.broadcasts import BroadcastService
from services.dashboard import DashboardService
from services.dashboard_imports import DashboardImports
from services.notice_search import NoticeSearchService
from services.staff_accounts import StaffAccounts
from services.staff_inbox import StaffInbox
from services.staff_sessions import StaffSessions
from web.staff.integration import IntegrationPort


@dataclass
class StaffServices:
    accounts: StaffAccounts
    sessions: StaffSessions
    dashboard: DashboardService
    notices: NoticeSearchService
    broadcasts: BroadcastService
    inbox: StaffInbox
    imports: DashboardImports
    audit: AuditLog
    integration: IntegrationPort | None = None  # the integration API's keys and webhooks (None: not offered)
    secure_cookies: bool = False


def staff_services(request: Request) -> StaffServices:
    services: StaffServices = request.app.state.deps.extra["staff"]
    return services
