"""handoff forwarding: every staff-chat message of a (split) forwarded question, and whether it arrived

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forward_status', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('forward_error', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.create_table('handoff_messages',
    sa.Column('staff_chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('handoff_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ),
    sa.PrimaryKeyConstraint('staff_chat_id', 'message_id')
    )
    with op.batch_alter_table('handoff_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_messages_handoff_id'), ['handoff_id'], unique=False)
    # Questions forwarded before this revision were one message each.
    op.execute("INSERT INTO handoff_messages (staff_chat_id, message_id, handoff_id) "
               "SELECT staff_chat_id, staff_message_id, id FROM handoffs "
               "WHERE staff_chat_id IS NOT NULL AND staff_message_id IS NOT NULL")
    op.execute("UPDATE handoffs SET forward_status = 'forwarded' WHERE staff_message_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('handoff_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_messages_handoff_id'))
    op.drop_table('handoff_messages')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_column('forward_error')
        batch_op.drop_column('forward_status')
