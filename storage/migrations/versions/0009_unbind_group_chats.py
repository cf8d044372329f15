"""unbind chats that are not a citizen's own private chat (groups bound before issue 8)

Before chats were scoped, a citizen could log in inside a group, and every notice was then pushed
there, for every member to read and open. A private chat's id is its user's id on the Bot API (a
group's is negative), so a binding whose chat_id is negative, or differs from the user_id it was made
by, is a group: it is unbound (active = false, unbound_at = now), each with an audit event, and what
is still queued for it (notices, reminders, broadcast copies) is failed rather than sent. The citizen
keeps every other binding and may log in again in their private chat. Data only; downgrade keeps
the unbinding (re-binding groups would re-expose notices).

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

REASON = "not a private chat (migration 0009)"

bindings = sa.table('chat_bindings', sa.column('id', sa.BigInteger), sa.column('citizen_id', sa.BigInteger),
                    sa.column('platform', sa.String), sa.column('chat_id', sa.BigInteger),
                    sa.column('user_id', sa.BigInteger), sa.column('active', sa.Boolean),
                    sa.column('unbound_at', UTCDateTime()))
audit_events = sa.table('audit_events', sa.column('at', UTCDateTime()), sa.column('actor', sa.String),
                        sa.column('action', sa.String), sa.column('subject', sa.String),
                        sa.column('detail', sa.Text))


def _not_private() -> sa.ColumnElement[bool]:
    return sa.or_(bindings.c.chat_id < 0,
                  sa.and_(bindings.c.user_id.is_not(None), bindings.c.user_id != bindings.c.chat_id))


def upgrade() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    found = connection.execute(
        sa.select(bindings.c.id, bindings.c.citizen_id, bindings.c.platform, bindings.c.chat_id)
        .where(bindings.c.active.is_(True), _not_private())).all()
    for row in found:
        connection.execute(bindings.update().where(bindings.c.id == row.id).values(active=False, unbound_at=now))
        connection.execute(audit_events.insert().values(
            at=now, actor="migration:0009", action="chat_unbound", subject=str(row.citizen_id),
            detail=json.dumps({"platform": row.platform, "chat_id": row.chat_id, "reason": "not_private"})))
        for table in ('deliveries', 'outbox'):
            queued = sa.table(table, sa.column('platform', sa.String), sa.column('chat_id', sa.BigInteger),
                              sa.column('status', sa.String), sa.column('last_error', sa.Text))
            connection.execute(queued.update().where(
                queued.c.platform == row.platform, queued.c.chat_id == row.chat_id,
                queued.c.status == 'queued').values(status='failed', last_error=REASON))


def downgrade() -> None:
    pass  # the unbinding stands: binding a group again would show its members a citizen's notices
