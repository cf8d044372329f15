"""The dashboard's services from the settings: sessions in Redis when REDIS_URL is set, else the database."""

from __future__ import annotations

from bot.app import law_policy
from bot.runtime import Runtime
from bot.staff_integration import StaffIntegration
from handlers.outbox_cards import staff_reply_card
from services.api_keys import ApiKeyService
from services.audit_log import AuditLog
from services.broadcasts import BroadcastService
from services.clock import Clock, system_clock
from services.dashboard import DashboardService
from services.dashboard_imports import DashboardImports
from services.notice_search import NoticeSearchService
from services.staff_accounts import StaffAccounts
from services.staff_inbox import StaffInbox
from services.staff_sessions import DatabaseSessionStore, SessionRecord, SessionStore, StaffSessions
from services.webhooks import WebhookService
from web.staff import StaffServices


def session_store(runtime: Runtime) -> SessionStore:
    if runtime.settings.redis_url:
        from redis.asyncio import Redis

        from storage.redis_staff_sessions import RedisSessionStore

        return RedisSessionStore(Redis.from_url(runtime.settings.redis_url), SessionRecord)  # type: ignore[return-value]
    return DatabaseSessionStore(runtime.database)


def staff_services(runtime: Runtime, *, clock: Clock = system_clock, secure_cookies: bool = False,
                   accounts: StaffAccounts | None = None, store: SessionStore | None = None) -> StaffServices:
    db = runtime.database
    accounts = accounts or StaffAccounts(db, clock)
    return StaffServices(
        accounts=accounts, sessions=StaffSessions(store or session_store(runtime), accounts, clock),
        dashboard=DashboardService(db, clock),
        notices=NoticeSearchService(db, runtime.hasher, law_policy(runtime), clock),
        broadcasts=BroadcastService(db, clock), inbox=StaffInbox(db, clock, staff_reply_card),
        imports=DashboardImports(db, runtime.hasher, clock), audit=AuditLog(db, clock),
        integration=StaffIntegration(ApiKeyService(db, clock), WebhookService(db, clock)),
        secure_cookies=secure_cookies)
