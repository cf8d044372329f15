"""callbacks become messages of the one delivery engine: webhook_deliveries moves into messages

Every callback (lane and kind `callback`, `ref_id` its event, platform "http", `chat_id` its
endpoint) keeps its status, attempts, last error and times; the attempt log (`webhook_attempts`)
is kept and re-pointed at the messages' ids, which the deliveries listing and replay read. A
callback in flight (sending) is kept with no holder: the engine's sweeper gives it back.

Revision ID: 0014
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_UTC = storage.types.UTCDateTime()
_MATCH = ("m.lane = 'callback' AND m.kind = 'callback' AND m.platform = 'http' "
          "AND m.ref_id = d.event_id AND m.chat_id = d.webhook_id")


def upgrade() -> None:
    op.execute("INSERT INTO messages (lane, kind, ref_id, platform, chat_id, status, attempts, last_error, "
               "message_id, created_at, next_attempt_at, claimed_at, sent_at) "
               "SELECT 'callback', 'callback', event_id, 'http', webhook_id, status, attempts, last_error, "
               "last_status_code, created_at, COALESCE(next_attempt_at, created_at), claimed_at, sent_at "
               "FROM webhook_deliveries ORDER BY id")
    op.execute(f"UPDATE webhook_attempts SET delivery_id = (SELECT m.id FROM messages m "
               f"JOIN webhook_deliveries d ON {_MATCH} WHERE d.id = webhook_attempts.delivery_id)")
    op.execute("DELETE FROM webhook_attempts WHERE delivery_id IS NULL")
    op.drop_index('ix_webhook_deliveries_status_next', 'webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_webhook_id', 'webhook_deliveries')
    op.drop_table('webhook_deliveries')


def downgrade() -> None:
    op.create_table('webhook_deliveries',
    sa.Column('id', _PK, primary_key=True),
    sa.Column('webhook_id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', _UTC, nullable=True),
    sa.Column('claimed_at', _UTC, nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(500), nullable=True),
    sa.Column('created_at', _UTC, nullable=False),
    sa.Column('sent_at', _UTC, nullable=True),
    sa.UniqueConstraint('webhook_id', 'event_id', name='uq_webhook_delivery_event'),
    )
    op.create_index('ix_webhook_deliveries_webhook_id', 'webhook_deliveries', ['webhook_id'])
    op.create_index('ix_webhook_deliveries_status_next', 'webhook_deliveries', ['status', 'next_attempt_at'])
    # Statuses the old lane did not have (cancelled, blocked) were never given to callbacks.
    op.execute("INSERT INTO webhook_deliveries (webhook_id, event_id, status, attempts, next_attempt_at, claimed_at, "
               "last_status_code, last_error, created_at, sent_at) "
               "SELECT chat_id, ref_id, status, attempts, next_attempt_at, claimed_at, "
               "CASE WHEN status = 'sent' THEN message_id END, SUBSTR(last_error, 1, 500), created_at, sent_at "
               "FROM messages WHERE lane = 'callback' ORDER BY id")
    op.execute("UPDATE webhook_attempts SET delivery_id = (SELECT d.id FROM webhook_deliveries d "
               "JOIN messages m ON " + _MATCH + " WHERE m.id = webhook_attempts.delivery_id)")
    op.execute("DELETE FROM webhook_attempts WHERE delivery_id IS NULL")
    op.execute("DELETE FROM messages WHERE lane = 'callback'")
