"""handled_updates: Bot API update ids already handled, so a restart or a redelivery repeats nothing

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handled_updates',
    sa.Column('bot', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('update_id', sa.BigInteger(), nullable=False),
    sa.Column('handled_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('bot', 'update_id')
    )
    with op.batch_alter_table('handled_updates', schema=None) as batch_op:
        batch_op.create_index('ix_handled_updates_at', ['handled_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('handled_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_handled_updates_at')
    op.drop_table('handled_updates')
