"""one table for every outgoing message: deliveries and outbox become messages

Every row keeps its status, attempts, last error, message id and times. A notice's rows (kind
notice) keep their deliveries.id, which the proof chain names as the source of each "delivered"
record, so `eblagh receipts verify` passes on an upgraded database; broadcast copies and reminders
are numbered after them. Rows in flight (sending) are kept as they are with no holder: the sweeper
gives them back to the queue (at once with Redis, after the claim timeout without it).

Notices and chat bindings get `fanned_out_at`: the sweeper queues messages only for those not yet
fanned out (a partial index) instead of scanning every notice against every chat. Before marking
them all fanned out, every (notice, active reachable chat) pair with no message yet is queued, as
the old sweeper would have done on its next pass.

Revision ID: 0011
Revises: 0013
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0011'
down_revision = '0013'
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_UTC = storage.types.UTCDateTime
_STR = sqlmodel.sql.sqltypes.AutoString

_COMMON = ("platform", "chat_id", "status", "attempts", "last_error", "message_id", "created_at",
           "next_attempt_at", "claimed_at", "sent_at")


def _partial(condition: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    op.create_table('messages',
    sa.Column('id', _PK, nullable=False),
    sa.Column('lane', _STR(length=16), nullable=False),
    sa.Column('kind', _STR(length=16), nullable=False),
    sa.Column('ref_id', sa.BigInteger(), nullable=False),
    sa.Column('platform', _STR(length=16), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('status', _STR(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('origin_id', sa.BigInteger(), nullable=True),
    sa.Column('notify_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', _UTC(), nullable=False),
    sa.Column('next_attempt_at', _UTC(), nullable=False),
    sa.Column('claimed_at', _UTC(), nullable=True),
    sa.Column('claimed_by', _STR(length=64), nullable=True),
    sa.Column('sent_at', _UTC(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'ref_id', 'platform', 'chat_id', name='uq_messages_ref_chat')
    )
    op.create_index('ix_messages_due', 'messages', ['lane', 'platform', 'next_attempt_at', 'id'],
                    **_partial("status = 'queued'"))
    op.create_index('ix_messages_sending', 'messages', ['claimed_by'], **_partial("status = 'sending'"))
    op.create_index('ix_messages_ref_status', 'messages', ['kind', 'ref_id', 'status'])
    op.create_index('ix_messages_chat', 'messages', ['platform', 'chat_id'])
    op.add_column('notices', sa.Column('fanned_out_at', _UTC(), nullable=True))
    op.add_column('chat_bindings', sa.Column('fanned_out_at', _UTC(), nullable=True))

    columns = ", ".join(_COMMON)
    # A row is due from next_attempt_at (never NULL now: the sweeper's due query is an index range).
    picked = columns.replace("next_attempt_at", "COALESCE(next_attempt_at, created_at)")
    op.execute(f"INSERT INTO messages (id, lane, kind, ref_id, {columns}) "
               f"SELECT id, 'messenger', 'notice', notice_id, {picked} FROM deliveries")
    bind = op.get_bind()
    offset = int(bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM deliveries")).scalar() or 0)
    op.execute(f"INSERT INTO messages (id, lane, kind, ref_id, {columns}) "
               f"SELECT id + {offset}, 'messenger', kind, ref_id, {picked} FROM outbox WHERE kind <> 'staff_reply'")
    # An answer written in the dashboard (0013) is named by its reply's id negated, with its handoff as
    # origin; its text is read from staff_replies when it is sent (no body).
    op.execute(f"INSERT INTO messages (id, lane, kind, ref_id, origin_id, {columns}) "
               f"SELECT o.id + {offset}, 'messenger', 'staff_reply', -o.ref_id, r.handoff_id, "
               f"{', '.join('o.' + c for c in _COMMON).replace('o.next_attempt_at', 'COALESCE(o.next_attempt_at, o.created_at)')} "
               f"FROM outbox o LEFT JOIN staff_replies r ON r.id = o.ref_id WHERE o.kind = 'staff_reply'")

    # What the old sweeper would have queued on its next pass, then everything counts as fanned out.
    now = datetime.now(UTC)
    stamp = sa.bindparam("now", now, type_=_UTC())
    bind.execute(sa.text(
        "INSERT INTO messages (lane, kind, ref_id, platform, chat_id, status, attempts, created_at, next_attempt_at) "
        "SELECT 'messenger', 'notice', n.id, b.platform, b.chat_id, 'queued', 0, :now, :now "
        "FROM notices n JOIN chat_bindings b ON b.citizen_id = n.citizen_id "
        "WHERE b.active AND b.unreachable_at IS NULL AND NOT n.test AND NOT EXISTS ("
        "SELECT 1 FROM messages m WHERE m.kind = 'notice' AND m.ref_id = n.id "
        "AND m.platform = b.platform AND m.chat_id = b.chat_id)").bindparams(stamp))
    bind.execute(sa.text("UPDATE notices SET fanned_out_at = :now").bindparams(stamp))
    bind.execute(sa.text("UPDATE chat_bindings SET fanned_out_at = :now").bindparams(stamp))
    if bind.dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('messages', 'id'), "
                   "GREATEST((SELECT COALESCE(MAX(id), 0) FROM messages), 1))")

    op.create_index('ix_notices_unfanned', 'notices', ['id'], **_partial("fanned_out_at IS NULL"))
    op.create_index('ix_bindings_unfanned', 'chat_bindings', ['id'], **_partial("fanned_out_at IS NULL"))
    op.create_index('ix_notices_unserved', 'notices', ['first_delivered_at'],
                    **_partial("viewed_at IS NULL AND deemed_recorded_at IS NULL"))
    op.drop_table('deliveries')
    op.drop_table('outbox')


def downgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', _PK, nullable=False),
    sa.Column('notice_id', sa.BigInteger(), nullable=False),
    sa.Column('platform', _STR(length=16), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('status', _STR(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', _UTC(), nullable=False),
    sa.Column('next_attempt_at', _UTC(), nullable=True),
    sa.Column('claimed_at', _UTC(), nullable=True),
    sa.Column('sent_at', _UTC(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'platform', 'chat_id', name='uq_delivery_notice_chat')
    )
    op.create_index('ix_deliveries_notice_id', 'deliveries', ['notice_id'])
    op.create_index('ix_deliveries_status_next', 'deliveries', ['status', 'next_attempt_at'])
    op.create_table('outbox',
    sa.Column('id', _PK, nullable=False),
    sa.Column('kind', _STR(length=16), nullable=False),
    sa.Column('ref_id', sa.BigInteger(), nullable=False),
    sa.Column('platform', _STR(length=16), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('status', _STR(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', _UTC(), nullable=False),
    sa.Column('next_attempt_at', _UTC(), nullable=True),
    sa.Column('claimed_at', _UTC(), nullable=True),
    sa.Column('sent_at', _UTC(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'ref_id', 'platform', 'chat_id', name='uq_outbox_ref_chat')
    )
    op.create_index('ix_outbox_status_next', 'outbox', ['status', 'next_attempt_at'])
    op.create_index('ix_outbox_ref_status', 'outbox', ['kind', 'ref_id', 'status'])
    columns = ", ".join(_COMMON)
    # A notice cancelled for a logged-out chat was never a state of deliveries: it is failed there.
    picked = columns.replace("status", "CASE status WHEN 'cancelled' THEN 'failed' ELSE status END", 1)
    op.execute(f"INSERT INTO deliveries (id, notice_id, {columns}) "
               f"SELECT id, ref_id, {picked} FROM messages WHERE kind = 'notice'")
    # Handoffs, the staff chat's replies and notes did not exist as rows before: they are dropped. The
    # dashboard's answers (no staff chat to notify) go back to the outbox under their reply's id.
    op.execute(f"INSERT INTO outbox (kind, ref_id, {columns}) "
               f"SELECT kind, CASE kind WHEN 'staff_reply' THEN -ref_id ELSE ref_id END, {columns} FROM messages "
               f"WHERE kind IN ('broadcast', 'reminder') "
               f"OR (kind = 'staff_reply' AND notify_chat_id IS NULL AND ref_id < 0) ORDER BY id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('deliveries', 'id'), "
                   "GREATEST((SELECT COALESCE(MAX(id), 0) FROM deliveries), 1))")
    op.drop_index('ix_notices_unserved', 'notices')
    op.drop_index('ix_bindings_unfanned', 'chat_bindings')
    op.drop_index('ix_notices_unfanned', 'notices')
    with op.batch_alter_table('chat_bindings', schema=None) as batch_op:
        batch_op.drop_column('fanned_out_at')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('fanned_out_at')
    op.drop_table('messages')
