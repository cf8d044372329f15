"""chat_bindings.auth_proof: how the citizen proved the phone when the chat was bound

contact_user_id (the shared contact's user_id is the sender's) or contact_reply (Bale: a contact
without user_id, sent in the private chat, not forwarded, while the bot awaited it); NULL for
bindings made before this revision or imported.

Revision ID: 0007
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chat_bindings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_proof', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_bindings', schema=None) as batch_op:
        batch_op.drop_column('auth_proof')
