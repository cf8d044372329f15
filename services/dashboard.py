"""The overview of the staff dashboard: what went out and what was read, today, in 7 and in 30 days.

Days are Tehran's. Read rate and the time from delivery to view are over the notices first delivered in
the last 30 days. Failures: notice deliveries that failed for good, as a share of those sent or failed
in the last 7 days; past `FAILURE_WARNING` the page shows a warning colour.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.clock import Clock
from services.law.calendar import start_of_tehran_day, tehran_date
from storage import dashboard
from storage.dashboard import ActivityCounts
from storage.database import Database

FAILURE_WARNING = 0.05
DAYS = 30
# Time from first delivery to first view: (label key, upper bound); deemed is its own bucket.
BUCKETS = (("under_1h", timedelta(hours=1)), ("1h_24h", timedelta(days=1)), ("1d_3d", timedelta(days=3)),
           ("3d_10d", None))
BUCKET_KEYS = (*(key for key, _ in BUCKETS), "deemed")


@dataclass(frozen=True)
class DistrictLine:
    district: int | None
    delivered: int
    viewed: int
    deemed: int

    @property
    def read_rate(self) -> float | None:
        return self.viewed / self.delivered if self.delivered else None


@dataclass(frozen=True)
class Overview:
    now: datetime
    windows: dict[str, ActivityCounts]  # today, 7d, 30d
    days: list[date]  # the 30 Tehran days of the chart, oldest first
    delivered_daily: list[int]
    viewed_daily: list[int]
    read_rate: float | None
    buckets: dict[str, int]
    districts: list[DistrictLine]
    queue_depth: int
    oldest_queued: datetime | None
    failure_rate: float | None
    sent_7d: int = 0
    failed_7d: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def failure_warning(self) -> bool:
        return self.failure_rate is not None and self.failure_rate > FAILURE_WARNING

    @property
    def oldest_age(self) -> timedelta | None:
        return self.now - self.oldest_queued if self.oldest_queued is not None else None


def bucket_of(delivered: datetime, viewed: datetime) -> str:
    waited = viewed - delivered
    for key, bound in BUCKETS:
        if bound is None or waited < bound:
            return key
    return BUCKETS[-1][0]


class DashboardService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def overview(self) -> Overview:
        now = self._clock()
        today = tehran_date(now)
        first_day = today - timedelta(days=DAYS - 1)
        since = {"today": start_of_tehran_day(today), "7d": start_of_tehran_day(today - timedelta(days=6)),
                 "30d": start_of_tehran_day(first_day)}
        async with self._db.session() as session:
            windows = {name: await dashboard.activity_since(session, at) for name, at in since.items()}
            timings = await dashboard.notice_timings(session, since["30d"])
            sent, failed = await dashboard.delivery_outcomes_since(session, since["7d"])
            depth, oldest = await dashboard.queue_state(session)
        days = [first_day + timedelta(days=i) for i in range(DAYS)]
        delivered_by_day: Counter[date] = Counter()
        viewed_by_day: Counter[date] = Counter()
        buckets = dict.fromkeys(BUCKET_KEYS, 0)
        by_district: dict[int | None, list[int]] = {}
        delivered_in_window = viewed_in_window = 0
        for t in timings:
            if t.viewed_at is not None and t.viewed_at >= since["30d"]:
                viewed_by_day[tehran_date(t.viewed_at)] += 1
            if t.first_delivered_at is None or t.first_delivered_at < since["30d"]:
                continue
            delivered_by_day[tehran_date(t.first_delivered_at)] += 1
            delivered_in_window += 1
            line = by_district.setdefault(t.district, [0, 0, 0])
            line[0] += 1
            if t.viewed_at is not None:
                viewed_in_window += 1
                line[1] += 1
                buckets[bucket_of(t.first_delivered_at, t.viewed_at)] += 1
            elif t.deemed_recorded_at is not None:
                line[2] += 1
                buckets["deemed"] += 1
        districts = [DistrictLine(d, *counts) for d, counts in
                     sorted(by_district.items(), key=lambda item: (item[0] is None, item[0] or 0))]
        return Overview(
            now=now, windows=windows, days=days,
            delivered_daily=[delivered_by_day[d] for d in days], viewed_daily=[viewed_by_day[d] for d in days],
            read_rate=viewed_in_window / delivered_in_window if delivered_in_window else None,
            buckets=buckets, districts=districts, queue_depth=depth, oldest_queued=oldest,
            failure_rate=failed / (sent + failed) if sent + failed else None, sent_7d=sent, failed_7d=failed)
