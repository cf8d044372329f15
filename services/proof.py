"""Checking the proof of service: the hash chain, its sealed head, and the tables it speaks of.

A record is broken when its place in the chain is wrong (a record missing before it, its prev_hash not
the previous record's hash), when its stored event is not what its columns say or its hash is not
SHA-256(prev_hash || event), or when the current tables no longer agree with it (a delivery's chat or
time, a receipt, a notice's view, first delivery or deemed-service time, its ruling or citizen). Then the
head must name the last record and carry the HMAC of SECRET_KEY, and every recorded fact in the tables
must have a record. Problems come in that order, so the first one is the first broken record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from storage import proof
from storage.database import Database
from storage.models import DeliveryStatus
from storage.proof import Facts, utc_text
from storage.proof_models import ProofHead, ProofKind, ProofRecord

MAX_KEPT = 200  # problems kept for display; all are counted


@dataclass(frozen=True)
class ProofProblem:
    seq: int | None  # None: not a record (the head, or a fact no record stands for)
    notice_id: int | None
    kind: str | None
    what: str

    def describe(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "head" if self.notice_id is None else "unrecorded"
        about = ", ".join(x for x in (f"notice {self.notice_id}" if self.notice_id is not None else "",
                                      self.kind or "") if x)
        return f"{where}" + (f" ({about})" if about else "") + f": {self.what}"


@dataclass
class ProofReport:
    records: int = 0
    head_seq: int = 0
    head_hash: str = proof.GENESIS
    problem_count: int = 0
    problems: list[ProofProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: ProofProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_KEPT:
            self.problems.append(problem)


def _t(value: datetime | None) -> str:
    return utc_text(value) if value is not None else "null"


def _short(digest: str) -> str:
    return digest[:16] + "…"


class _Walk:
    """The state carried along the chain."""

    def __init__(self, report: ProofReport, latest_delivered: dict[int, int]) -> None:
        self.report = report
        self.latest_delivered = latest_delivered
        self.seq = 0
        self.hash = proof.GENESIS
        self.first_delivery_seen: set[int] = set()
        self.viewed_seen: set[int] = set()
        self.deemed_seen: set[int] = set()

    def check(self, record: ProofRecord, facts: Facts) -> None:
        if record.seq > self.seq + 1:  # deleted records: the first broken one is the first missing
            first, last = self.seq + 1, record.seq - 1
            gone = "missing" if first == last else f"missing, and seq {first + 1}-{last} after it"
            self.report.add(ProofProblem(first, None, None, f"{gone} (the chain jumps from seq {self.seq} to "
                                         f"{record.seq})"))
        problems = self._chain(record) + self._facts(record, facts)
        for what in problems[:1]:  # one line per broken record: the first thing wrong with it
            self.report.add(ProofProblem(record.seq, record.notice_id, record.kind, what))
        self.report.records += 1
        # Go on from the stored hash, so one altered record does not make every later one look broken.
        self.seq, self.hash = record.seq, record.hash

    def _chain(self, record: ProofRecord) -> list[str]:
        problems = []
        if record.seq <= self.seq:
            problems.append(f"out of order after seq {self.seq}")
        elif record.seq == self.seq + 1 and record.prev_hash != self.hash:
            problems.append(f"prev_hash {_short(record.prev_hash)} is not the hash of seq {self.seq} "
                            f"({_short(self.hash)}): a record was replaced or inserted")
        rebuilt = proof.record_fields(record)
        if proof.canonical(rebuilt) != record.event:
            problems.append(_event_difference(record.event, rebuilt))
        computed = proof.chain_hash(record.prev_hash, record.event)
        if computed != record.hash:
            problems.append(f"stored hash {_short(record.hash)} is not SHA-256(prev_hash || event) "
                            f"{_short(computed)}")
        return problems

    def _facts(self, record: ProofRecord, facts: Facts) -> list[str]:
        notice = facts.notices.get(record.notice_id)
        if notice is None:
            return [f"notice {record.notice_id} no longer exists"]
        problems = []
        if notice.ruling_id != record.ruling_id:
            problems.append(f"notice's ruling is {notice.ruling_id}, the record says {record.ruling_id}")
        if notice.citizen_id != record.citizen_id:
            problems.append(f"notice's citizen is {notice.citizen_id}, the record says {record.citizen_id}")
        at = record.occurred_at
        if record.kind == ProofKind.DELIVERED:
            problems += self._delivered(record, facts)
            if record.notice_id not in self.first_delivery_seen:
                self.first_delivery_seen.add(record.notice_id)
                if notice.first_delivered_at != at:
                    problems.append(f"notice first_delivered_at is {_t(notice.first_delivered_at)}, "
                                    f"the record says {_t(at)}")
        elif record.kind == ProofKind.VIEWED:
            problems += self._viewed(record, facts)
            if record.notice_id in self.viewed_seen:
                problems.append("a second view record for this notice (only the first view counts)")
            self.viewed_seen.add(record.notice_id)
            if notice.viewed_at != at:
                problems.append(f"notice viewed_at is {_t(notice.viewed_at)}, the record says {_t(at)}")
        elif record.kind == ProofKind.DEEMED:
            if record.notice_id in self.deemed_seen:
                problems.append("a second deemed-service record for this notice")
            self.deemed_seen.add(record.notice_id)
            if notice.deemed_recorded_at != at:
                problems.append(f"notice deemed_recorded_at is {_t(notice.deemed_recorded_at)}, "
                                f"the record says {_t(at)}")
        else:
            problems.append(f"unknown kind {record.kind!r}")
        return problems

    def _delivered(self, record: ProofRecord, facts: Facts) -> list[str]:
        if record.source_id is None:
            return []  # backfilled first delivery with no sent delivery row: checked against the notice
        delivery = facts.deliveries.get(record.source_id)
        if delivery is None:
            return [f"delivery {record.source_id} no longer exists"]
        problems = []
        for name, now, then in (("notice_id", delivery.ref_id, record.notice_id),
                                ("platform", delivery.platform, record.platform),
                                ("chat_id", delivery.chat_id, record.chat_id)):
            if now != then:
                problems.append(f"delivery {delivery.id} {name} is {now}, the record says {then}")
        if delivery.status != DeliveryStatus.SENT.value:
            problems.append(f"delivery {delivery.id} status is {delivery.status}, the record says sent")
        elif self.latest_delivered.get(record.source_id) == record.seq and delivery.sent_at != record.occurred_at:
            problems.append(f"delivery {delivery.id} sent_at is {_t(delivery.sent_at)}, "
                            f"the record says {_t(record.occurred_at)}")
        return problems

    def _viewed(self, record: ProofRecord, facts: Facts) -> list[str]:
        if record.source_id is None:
            return []  # backfilled view with no receipt row: checked against the notice
        receipt = facts.receipts.get(record.source_id)
        if receipt is None:
            return [f"receipt {record.source_id} no longer exists"]
        problems = []
        for name, now, then in (("notice_id", receipt.notice_id, record.notice_id),
                                ("platform", receipt.platform, record.platform),
                                ("chat_id", receipt.chat_id, record.chat_id),
                                ("user_id", receipt.user_id, record.user_id),
                                ("viewed_at", _t(receipt.viewed_at), _t(record.occurred_at))):
            if now != then:
                problems.append(f"receipt {receipt.id} {name} is {now}, the record says {then}")
        return problems


def _event_difference(stored: str, rebuilt: dict[str, object]) -> str:
    try:
        fields = json.loads(stored)
    except ValueError:
        return "stored event is not valid JSON"
    if not isinstance(fields, dict):
        return "stored event is not a JSON object"
    for name in sorted(set(fields) | set(rebuilt)):
        if fields.get(name) != rebuilt.get(name):
            return f"the record's {name} column is {rebuilt.get(name)}, its hashed event says {fields.get(name)}"
    return "stored event is not in canonical form"


async def verify_proof(db: Database, key: bytes | None) -> ProofReport:
    """Walk the whole chain, then the head, then the facts no record stands for."""
    report = ProofReport()
    async with db.session() as session:
        walk = _Walk(report, await proof.latest_delivered_seqs(session))
        async for records in proof.iter_records(session):
            facts = await proof.facts_for(session, records)
            for record in records:
                walk.check(record, facts)
        head = await proof.get_head(session)
        _check_head(report, head, walk.seq, walk.hash, key)
        for fact in await proof.unrecorded_facts(session):
            report.add(ProofProblem(None, fact.notice_id, fact.kind.value, fact.what))
    return report


def _check_head(report: ProofReport, head: ProofHead | None, last_seq: int, last_hash: str,
                key: bytes | None) -> None:
    if head is None:
        report.add(ProofProblem(None, None, None, "proof_chain_head is missing"))
        return
    report.head_seq, report.head_hash = head.seq, head.hash
    if (head.seq, head.hash) != (last_seq, last_hash):
        report.add(ProofProblem(None, None, None, f"names seq {head.seq} ({_short(head.hash)}) but the chain ends "
                                f"at seq {last_seq} ({_short(last_hash)}): records deleted or added at the end"))
        return
    if head.seal is None:
        if head.seq:
            report.add(ProofProblem(None, None, None, "not sealed with SECRET_KEY (appended or backfilled "
                                    "without it); run `eblagh db upgrade` with the key"))
        return
    if key is None or head.seal != proof.seal(key, head.seq, head.hash):
        report.add(ProofProblem(None, None, None, "seal does not match SECRET_KEY: the chain was rewritten "
                                "without the key, or a different key is set"))
