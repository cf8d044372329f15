"""The overview's numbers from known rows: windows, days (Tehran's), buckets, districts, the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.dashboard import DashboardService
from services.privacy import Hasher
from storage import citizens, duties, messages, notices
from storage.database import Database
from storage.models import DeliveryStatus
from tests.factories import create_case, create_citizen, create_ruling

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # 15:30 in Tehran


async def test_overview_counts_what_happened_when(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    async with db.session() as session:
        ids = []
        for index, (district, delivered_ago, viewed_after) in enumerate([
                (1, timedelta(hours=3), timedelta(minutes=20)),   # today; viewed within the hour
                (1, timedelta(days=2), timedelta(hours=5)),       # viewed the same day
                (2, timedelta(days=5), timedelta(days=2)),        # viewed after two days
                (2, timedelta(days=20), None),                    # deemed served
                (3, timedelta(days=1), None),                     # delivered, unopened
        ]):
            citizen = await create_citizen(session, hasher, district=district)
            case = await create_case(session, citizen, district=district)
            await create_ruling(session, case)
            assert citizen.id is not None
            await citizens.bind_chat(session, citizen.id, "telegram", 100 + index, 100 + index, NOW - timedelta(days=30))
            ids.append((delivered_ago, viewed_after, 100 + index))
        await messages.fan_out(session, NOW - timedelta(days=25))
        due = [i for i, _ in await messages.due_page(session, "messenger", "telegram", NOW)]
        claimed = {c.chat_id: c for c in await messages.claim(session, due, NOW, "test")}
        for delivered_ago, viewed_after, chat in ids:
            c = claimed[chat]
            await messages.mark_sent(session, [(c, 1, NOW - delivered_ago)])
            if viewed_after is not None:
                await notices.record_first_view(session, c.ref_id, platform="telegram", chat_id=chat, user_id=chat,
                                                at=NOW - delivered_ago + viewed_after)
        await duties.record_deemed(session, claimed[103].ref_id, NOW - timedelta(days=10))
        # One more notice whose only delivery failed, and one still queued.
        citizen = await create_citizen(session, hasher, district=3)
        case = await create_case(session, citizen, district=3)
        await create_ruling(session, case)
        await create_ruling(session, case)
        assert citizen.id is not None
        await citizens.bind_chat(session, citizen.id, "telegram", 200, 200, NOW - timedelta(days=30))
        await messages.fan_out(session, NOW - timedelta(hours=2))
        waiting = [i for i, _ in await messages.due_page(session, "messenger", "telegram", NOW)]
        await messages.mark_final(session, waiting[0], DeliveryStatus.FAILED, "permanent: gone")

    overview = await DashboardService(db, lambda: NOW).overview()
    today, week, month = overview.windows["today"], overview.windows["7d"], overview.windows["30d"]
    assert (today.delivered, today.viewed, today.failed) == (1, 1, 1)
    assert (week.delivered, week.viewed, week.deemed) == (4, 3, 0)
    assert (month.delivered, month.viewed, month.deemed, month.imported) == (5, 3, 1, 7)
    assert overview.days[-1] == NOW.date() and len(overview.days) == 30
    assert overview.delivered_daily[-1] == 1 and overview.delivered_daily[-21] == 1 and sum(overview.delivered_daily) == 5
    assert sum(overview.viewed_daily) == 3
    assert overview.buckets == {"under_1h": 1, "1h_24h": 1, "1d_3d": 1, "3d_10d": 0, "deemed": 1}
    assert overview.read_rate == 3 / 5
    assert [(d.district, d.delivered, d.viewed, d.deemed) for d in overview.districts] == [
        (1, 2, 2, 0), (2, 2, 1, 1), (3, 1, 0, 0)]
    assert overview.queue_depth == 1 and overview.oldest_queued == NOW - timedelta(hours=2)
    assert overview.failure_rate == 1 / 5 and overview.failure_warning
