"""payments: fines paid in the chat (Bale), recorded once per transaction and reconciled

Revision ID: 0008
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('payments',
    sa.Column('id', _PK, nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ruling_pk', sa.BigInteger(), nullable=False),
    sa.Column('citizen_id', sa.BigInteger(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('amount_rials', sa.BigInteger(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('transaction_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('tracking_code', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('invoiced_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('paid_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('confirmed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('next_check_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], ),
    sa.ForeignKeyConstraint(['ruling_pk'], ['rulings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transaction_id', name='uq_payments_transaction')
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_token', ['token'], unique=True)
        batch_op.create_index('ix_payments_ruling_pk', ['ruling_pk'], unique=False)
        batch_op.create_index('ix_payments_state_next', ['state', 'next_check_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_state_next')
        batch_op.drop_index('ix_payments_ruling_pk')
        batch_op.drop_index('ix_payments_token')
    op.drop_table('payments')
