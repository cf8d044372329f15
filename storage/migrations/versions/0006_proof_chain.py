"""proof_chain and proof_chain_head: a tamper-evident hash chain of deliveries, views and deemed service;
existing facts are backfilled into it

Revision ID: 0006
Revises: 0005

The backfill writes one record per fact already in the database, marked `"backfilled": true`, in a
deterministic order: by time, then delivered < viewed < deemed, then notice id and source row id; each
notice's first delivery (the one whose time is its first_delivered_at, or a record without a chat when
no sent delivery has that time) comes before its other deliveries. The head is sealed when the upgrade is
given SECRET_KEY (`eblagh db upgrade`, or the embedded start); otherwise the first append seals it and
`eblagh receipts verify` reports it unsealed until then.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import context, op

import storage.types
from storage.proof import GENESIS, ProofEvent, build_records, seal
from storage.proof_models import ProofKind

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_UTC = storage.types.UTCDateTime


def upgrade() -> None:
    op.create_table('proof_chain',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('notice_id', sa.BigInteger(), nullable=False),
    sa.Column('ruling_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('citizen_id', sa.BigInteger(), nullable=False),
    sa.Column('source_id', sa.BigInteger(), nullable=True),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('chat_id', sa.BigInteger(), nullable=True),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('occurred_at', _UTC(), nullable=False),
    sa.Column('backfilled', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', _UTC(), nullable=False),
    sa.Column('event', sa.Text(), nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('hash')
    )
    with op.batch_alter_table('proof_chain', schema=None) as batch_op:
        batch_op.create_index('ix_proof_chain_notice', ['notice_id', 'kind'], unique=False)
    op.create_table('proof_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seal', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('updated_at', _UTC(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    _backfill(op.get_bind(), context.config.attributes.get('proof_key'))


def downgrade() -> None:
    op.drop_table('proof_chain_head')
    with op.batch_alter_table('proof_chain', schema=None) as batch_op:
        batch_op.drop_index('ix_proof_chain_notice')
    op.drop_table('proof_chain')


# The backfill --------------------------------------------------------------------------------------------

_notices = sa.table('notices', sa.column('id', sa.BigInteger()), sa.column('ruling_pk', sa.BigInteger()),
                    sa.column('citizen_id', sa.BigInteger()), sa.column('first_delivered_at', _UTC()),
                    sa.column('viewed_at', _UTC()), sa.column('deemed_recorded_at', _UTC()))
_rulings = sa.table('rulings', sa.column('id', sa.BigInteger()), sa.column('ruling_id', sa.String()))
_deliveries = sa.table('deliveries', sa.column('id', sa.BigInteger()), sa.column('notice_id', sa.BigInteger()),
                       sa.column('platform', sa.String()), sa.column('chat_id', sa.BigInteger()),
                       sa.column('status', sa.String()), sa.column('sent_at', _UTC()))
_receipts = sa.table('receipts', sa.column('id', sa.BigInteger()), sa.column('notice_id', sa.BigInteger()),
                     sa.column('platform', sa.String()), sa.column('chat_id', sa.BigInteger()),
                     sa.column('user_id', sa.BigInteger()), sa.column('viewed_at', _UTC()))
_chain = sa.table('proof_chain', *(sa.column(name, type_) for name, type_ in (
    ('seq', sa.BigInteger()), ('kind', sa.String()), ('notice_id', sa.BigInteger()), ('ruling_id', sa.String()),
    ('citizen_id', sa.BigInteger()), ('source_id', sa.BigInteger()), ('platform', sa.String()),
    ('chat_id', sa.BigInteger()), ('user_id', sa.BigInteger()), ('occurred_at', _UTC()),
    ('backfilled', sa.Boolean()), ('recorded_at', _UTC()), ('event', sa.Text()), ('prev_hash', sa.String()),
    ('hash', sa.String()))))
_head = sa.table('proof_chain_head', sa.column('id', sa.Integer()), sa.column('seq', sa.BigInteger()),
                 sa.column('hash', sa.String()), sa.column('seal', sa.String()), sa.column('updated_at', _UTC()))

def _events(bind: sa.Connection) -> list[tuple[ProofEvent, str, int]]:
    sent = defaultdict(list)
    for row in bind.execute(sa.select(_deliveries).where(_deliveries.c.status == 'sent',
                                                         _deliveries.c.sent_at.is_not(None))):
        sent[int(row.notice_id)].append(row)
    receipts = defaultdict(list)
    for row in bind.execute(sa.select(_receipts)):
        receipts[int(row.notice_id)].append(row)
    keyed = []
    notices = bind.execute(sa.select(_notices, _rulings.c.ruling_id)
                           .join(_rulings, _rulings.c.id == _notices.c.ruling_pk).order_by(_notices.c.id))
    for notice in notices:
        n, owner = int(notice.id), (str(notice.ruling_id), int(notice.citizen_id))

        def add(key: tuple, event: ProofEvent) -> None:
            keyed.append((key, event, owner))

        deliveries = sorted(sent[n], key=lambda d: (d.sent_at, int(d.id)))
        first_at = notice.first_delivered_at
        first = next((d for d in deliveries if d.sent_at == first_at), None) if first_at else None
        if first_at is not None:
            # The notice's first delivered record must carry first_delivered_at (what verify checks).
            earliest = min([first_at] + [d.sent_at for d in deliveries])
            if first is None:
                add((earliest, -1, n, 0), ProofEvent(ProofKind.DELIVERED, n, first_at))
            else:
                add((earliest, -1, n, int(first.id)), ProofEvent(
                    ProofKind.DELIVERED, n, first.sent_at, int(first.id), first.platform, int(first.chat_id)))
        for d in deliveries:
            if d is not first:
                add((d.sent_at, 0, n, int(d.id)), ProofEvent(ProofKind.DELIVERED, n, d.sent_at, int(d.id),
                                                             d.platform, int(d.chat_id)))
        for r in receipts[n]:
            add((r.viewed_at, 1, n, int(r.id)), ProofEvent(
                ProofKind.VIEWED, n, r.viewed_at, int(r.id), r.platform, int(r.chat_id),
                int(r.user_id) if r.user_id is not None else None))
        if notice.viewed_at is not None and not receipts[n]:
            add((notice.viewed_at, 1, n, 0), ProofEvent(ProofKind.VIEWED, n, notice.viewed_at))
        if notice.deemed_recorded_at is not None:
            add((notice.deemed_recorded_at, 2, n, 0), ProofEvent(ProofKind.DEEMED, n, notice.deemed_recorded_at))
    keyed.sort(key=lambda item: item[0])
    return [(event, *owner) for _key, event, owner in keyed]


def _backfill(bind: sa.Connection, key: bytes | None) -> None:
    now = datetime.now(UTC)
    rows = build_records(_events(bind), after_seq=0, after_hash=GENESIS, now=now, backfilled=True)
    for start in range(0, len(rows), 1000):
        bind.execute(sa.insert(_chain), rows[start:start + 1000])
    seq, digest = (int(rows[-1]['seq']), str(rows[-1]['hash'])) if rows else (0, GENESIS)
    bind.execute(sa.insert(_head), [{'id': 1, 'seq': seq, 'hash': digest,
                                     'seal': seal(key, seq, digest) if key else None, 'updated_at': now}])
