"""integration API: api_keys, api_idempotency, api_events, webhooks, webhook_deliveries,
webhook_attempts, api_import_jobs; rulings.test and notices.test (a `--test` key's rulings are never sent)

Revision ID: 0012
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0012'
down_revision = '0007'
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_UTC = storage.types.UTCDateTime


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', _PK, primary_key=True),
    sa.Column('name', sa.String(64), nullable=False, unique=True),
    sa.Column('role', sa.String(16), nullable=False),
    sa.Column('test', sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column('key_hash', sa.String(64), nullable=False),
    sa.Column('prefix', sa.String(24), nullable=False),
    sa.Column('created_at', _UTC(), nullable=False),
    sa.Column('last_used_at', _UTC(), nullable=True),
    sa.Column('revoked_at', _UTC(), nullable=True),
    )
    op.create_index('ix_api_keys_key_hash', 'api_keys', ['key_hash'], unique=True)
    op.create_table('api_idempotency',
    sa.Column('id', _PK, primary_key=True),
    sa.Column('api_key_id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(255), nullable=False),
    sa.Column('request_hash', sa.String(64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', _UTC(), nullable=False),
    sa.UniqueConstraint('api_key_id', 'key', name='uq_api_idempotency_key'),
    )
    op.create_table('api_events',
    sa.Column('id', _PK, primary_key=True),
    sa.Column('type', sa.String(32), nullable=False),
    sa.Column('occurred_at', _UTC(), nullable=False),
    sa.Column('notice_id', sa.BigInteger(), nullable=True),
    sa.Column('ruling_id', sa.String(64), nullable=True),
    sa.Column('case_number', sa.String(32), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    )
    op.create_table('webhooks',
    sa.Column('id', _PK, primary_key=True),
    sa.Column('api_key_id', sa.BigInteger(), nullable=False),
    sa.Column('url', sa.String(2000), nullable=False),
    sa.Column('events', sa.String(400), nullable=False),
    sa.Column('secret', sa.String(128), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', _UTC(), nullable=False),
    sa.Column('failing_since', _UTC(), nullable=True),
    sa.Column('disabled_at', _UTC(), nullable=True),
    sa.Column('deleted_at', _UTC(), nullable=True),
    )
    op.create_index('ix_webhooks_api_key_id', 'webhooks', ['api_key_id'])
    op.create_table('webhook_deliveries',
    sa.Column('id', _PK, primary_key=True),
    sa.Column('webhook_id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', _UTC(), nullable=True),
    sa.Column('claimed_at', _UTC(), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(500), nullable=True),
    sa.Column('created_at', _UTC(), nullable=False),
    sa.Column('sent_at', _UTC(), nullable=True),
    sa.UniqueConstraint('webhook_id', 'event_id', name='uq_webhook_delivery_event'),
    )
    op.create_index('ix_webhook_deliveries_webhook_id', 'webhook_deliveries', ['webhook_id'])
    op.create_index('ix_webhook_deliveries_status_next', 'webhook_deliveries', ['status', 'next_attempt_at'])
    op.create_table('webhook_attempts',
    sa.Column('id', _PK, primary_key=True),
    sa.Column('delivery_id', sa.BigInteger(), nullable=False),
    sa.Column('at', _UTC(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(16), nullable=False),
    sa.Column('error', sa.String(500), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    )
    op.create_index('ix_webhook_attempts_delivery_id', 'webhook_attempts', ['delivery_id'])
    op.create_table('api_import_jobs',
    sa.Column('id', _PK, primary_key=True),
    sa.Column('api_key_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(16), nullable=False),
    sa.Column('status', sa.String(16), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('bad', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Text(), nullable=False),
    sa.Column('failure', sa.String(200), nullable=True),
    sa.Column('created_at', _UTC(), nullable=False),
    sa.Column('finished_at', _UTC(), nullable=True),
    )
    for table in ('rulings', 'notices'):
        # a plain ALTER TABLE ADD COLUMN (SQLite too): a batch copy of rulings would trip notices' foreign key
        op.add_column(table, sa.Column('test', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in ('notices', 'rulings'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('test')
    for table in ('api_import_jobs', 'webhook_attempts', 'webhook_deliveries', 'webhooks', 'api_events',
                  'api_idempotency', 'api_keys'):
        op.drop_table(table)
