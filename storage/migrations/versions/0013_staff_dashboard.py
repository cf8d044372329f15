"""staff dashboard: staff accounts, server-side sessions, inbox replies, dashboard imports

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('staff_accounts',
    sa.Column('id', _PK, nullable=False),
    sa.Column('username', _S(length=64), nullable=False),
    sa.Column('role', _S(length=16), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('totp_secret', _S(length=64), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', storage.types.UTCDateTime(), nullable=True),
    sa.Column('last_totp_step', sa.BigInteger(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_staff_accounts_username', ['username'], unique=True)

    op.create_table('staff_sessions',
    sa.Column('token_hash', _S(length=64), nullable=False),
    sa.Column('staff_id', sa.BigInteger(), nullable=False),
    sa.Column('csrf_token', _S(length=64), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id'], ),
    sa.PrimaryKeyConstraint('token_hash'),
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_staff_sessions_staff_id', ['staff_id'], unique=False)

    op.create_table('staff_replies',
    sa.Column('id', _PK, nullable=False),
    sa.Column('handoff_id', sa.BigInteger(), nullable=False),
    sa.Column('staff_id', sa.BigInteger(), nullable=True),
    sa.Column('author', _S(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('staff_replies', schema=None) as batch_op:
        batch_op.create_index('ix_staff_replies_handoff_id', ['handoff_id'], unique=False)

    op.create_table('staff_uploads',
    sa.Column('id', _PK, nullable=False),
    sa.Column('kind', _S(length=16), nullable=False),
    sa.Column('filename', _S(length=200), nullable=False),
    sa.Column('created_by', _S(length=64), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('state', _S(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('good', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.Column('finished_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('staff_uploads', schema=None) as batch_op:
        batch_op.create_index('ix_staff_uploads_created', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('staff_uploads')
    op.drop_table('staff_replies')
    op.drop_table('staff_sessions')
    op.drop_table('staff_accounts')
