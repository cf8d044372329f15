"""Staff accounts of the dashboard: roles and what they allow, passwords (argon2id), TOTP (pyotp),
lock-out after repeated failures, and the password change required at first login.

A new or reset account gets a one-time password and a fresh TOTP secret, shown once to whoever ran
`eblagh staff add|reset`; the database keeps the argon2 hash of the password.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.clock import Clock
from storage import audit, staff
from storage.database import Database
from storage.staff_models import StaffAccount

ISSUER = "eblagh"
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 12
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class Permission(StrEnum):
    """What a route allows, named by what it lets staff do (one per route, web/staff/permissions.py)."""

    VIEW_ACTIVITY = "view_activity"  # overview, notices and proofs (masked IDs)
    SEND_MESSAGES = "send_messages"  # broadcasts and inbox replies
    IMPORT_DATA = "import_data"
    MANAGE_TEAM = "manage_team"  # staff accounts and the audit log
    MANAGE_API_KEYS = "manage_api_keys"  # API keys and webhooks


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW_ACTIVITY}),
    Role.OPERATOR: frozenset({Permission.VIEW_ACTIVITY, Permission.SEND_MESSAGES, Permission.IMPORT_DATA}),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    role: Role
    must_change_password: bool

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"staff:{self.username}"


@dataclass(frozen=True)
class Enrolment:
    """What `staff add` / `staff reset` prints once: a one-time password and the TOTP enrolment."""

    username: str
    password: str
    totp_secret: str

    @property
    def otpauth_uri(self) -> str:
        return pyotp.TOTP(self.totp_secret).provisioning_uri(name=self.username, issuer_name=ISSUER)


@dataclass(frozen=True)
class AccountLine:
    username: str
    role: str
    disabled: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class LoginOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # wrong username, password or code: one answer for all three
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    member: StaffMember | None = None
    locked_until: datetime | None = None


class StaffError(ValueError):
    pass


def _member(account: StaffAccount) -> StaffMember:
    assert account.id is not None
    return StaffMember(account.id, account.username, Role(account.role), account.must_change_password)


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not 2 <= len(name) <= 64 or not set(name) <= USERNAME_CHARS:
        raise StaffError("a username is 2-64 of a-z, 0-9, '.', '_', '-'")
    return name


class StaffAccounts:
    def __init__(self, db: Database, clock: Clock, *, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._clock = clock
        self._argon = hasher or PasswordHasher()

    def _fresh(self) -> tuple[str, str]:
        return secrets.token_urlsafe(12), pyotp.random_base32()

    async def add(self, username: str, role: Role, *, by: str, password: str | None = None,
                  must_change_password: bool = True) -> Enrolment:
        name = _check_username(username)
        one_time, secret = self._fresh()
        password = password or one_time
        now = self._clock()
        async with self._db.session() as session:
            if await staff.find_account(session, name) is not None:
                raise StaffError(f"{name} exists")
            session.add(StaffAccount(username=name, role=role.value, password_hash=self._argon.hash(password),
                                     totp_secret=secret, must_change_password=must_change_password,
                                     created_at=now))
            audit.record_event(session, actor=by, action="staff.added", subject=name, detail={"role": role.value},
                               at=now)
        return Enrolment(name, password, secret)

    async def reset(self, username: str, *, by: str) -> Enrolment:
        """A new one-time password and TOTP secret; every session of the account ends."""
        name = _check_username(username)
        password, secret = self._fresh()
        now = self._clock()
        async with self._db.session() as session:
            account = await staff.find_account(session, name)
            if account is None or account.id is None:
                raise StaffError(f"no account {name}")
            account.password_hash, account.totp_secret = self._argon.hash(password), secret
            account.must_change_password, account.failed_logins, account.locked_until = True, 0, None
            account.last_totp_step, account.disabled = None, False
            session.add(account)
            await staff.delete_sessions_of(session, account.id)
            audit.record_event(session, actor=by, action="staff.reset", subject=name, at=now)
        return Enrolment(name, password, secret)

    async def disable(self, username: str, *, by: str) -> None:
        name = _check_username(username)
        async with self._db.session() as session:
            account = await staff.find_account(session, name)
            if account is None or account.id is None:
                raise StaffError(f"no account {name}")
            account.disabled = True
            session.add(account)
            await staff.delete_sessions_of(session, account.id)
            audit.record_event(session, actor=by, action="staff.disabled", subject=name, at=self._clock())

    async def list(self) -> list[AccountLine]:
        async with self._db.session() as session:
            accounts = await staff.list_accounts(session)
        return [AccountLine(a.username, a.role, a.disabled, a.locked_until, a.last_login_at, a.created_at)
                for a in accounts]

    async def member(self, staff_id: int) -> StaffMember | None:
        """The account behind a session, None once disabled."""
        async with self._db.session() as session:
            account = await staff.get_account(session, staff_id)
        return _member(account) if account is not None and not account.disabled else None

    async def login(self, username: str, password: str, otp: str, *, source: str = "") -> LoginResult:
        """Check the three fields; MAX_FAILURES wrong attempts in a row lock the account for LOCKOUT,
        during which even the right credentials are refused."""
        now = self._clock()
        name = username.strip().lower()
        async with self._db.session() as session:
            account = await staff.find_account(session, name) if name and len(name) <= 64 else None
            if account is None or account.disabled:
                self._argon.hash(password or "-")  # the same work as a real check: no timing hint
                audit.record_event(session, actor=f"staff:{name[:40]}", action="staff.login_failed",
                                   detail={"reason": "unknown or disabled", "from": source}, at=now)
                return LoginResult(LoginOutcome.REFUSED)
            if account.locked_until is not None and account.locked_until > now:
                audit.record_event(session, actor=f"staff:{name}", action="staff.login_locked",
                                   detail={"from": source}, at=now)
                return LoginResult(LoginOutcome.LOCKED, locked_until=account.locked_until)
            step = self._totp_step(account, otp, now)
            if not self._password_ok(account, password) or step is None:
                account.failed_logins += 1
                if account.failed_logins >= MAX_FAILURES:
                    account.failed_logins, account.locked_until = 0, now + LOCKOUT
                session.add(account)
                audit.record_event(session, actor=f"staff:{name}", action="staff.login_failed",
                                   detail={"from": source, "locked": account.locked_until is not None
                                           and account.locked_until > now}, at=now)
                if account.locked_until is not None and account.locked_until > now:
                    return LoginResult(LoginOutcome.LOCKED, locked_until=account.locked_until)
                return LoginResult(LoginOutcome.REFUSED)
            account.failed_logins, account.locked_until = 0, None
            account.last_totp_step, account.last_login_at = step, now
            session.add(account)
            audit.record_event(session, actor=f"staff:{name}", action="staff.login", detail={"from": source}, at=now)
            return LoginResult(LoginOutcome.OK, _member(account))

    def _password_ok(self, account: StaffAccount, password: str) -> bool:
        try:
            return self._argon.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _totp_step(self, account: StaffAccount, otp: str, now: datetime) -> int | None:
        """The 30-second step of a valid code (this one or a neighbour, for clock drift), None when the
        code is wrong or was already used."""
        code = "".join(ch for ch in otp if ch.isdigit())
        if len(code) != 6:
            return None
        totp = pyotp.TOTP(account.totp_secret)
        current = int(now.timestamp()) // totp.interval
        for step in (current, current - 1, current + 1):
            if secrets.compare_digest(totp.at(step * totp.interval), code):
                if account.last_totp_step is not None and step <= account.last_totp_step:
                    return None  # replayed
                return step
        return None

    async def change_password(self, staff_id: int, current: str, new: str) -> None:
        if len(new) < MIN_PASSWORD:
            raise StaffError(f"a password has at least {MIN_PASSWORD} characters")
        if new == current:
            raise StaffError("the new password must differ")
        async with self._db.session() as session:
            account = await staff.get_account(session, staff_id)
            if account is None or not self._password_ok(account, current):
                raise StaffError("the current password is wrong")
            account.password_hash, account.must_change_password = self._argon.hash(new), False
            session.add(account)
            audit.record_event(session, actor=f"staff:{account.username}", action="staff.password_changed",
                               subject=account.username, at=self._clock())
