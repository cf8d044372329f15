"""The delivery engine with its callback lane alone (no messenger), driven by a test: a pass that
sends what is due now, or the engine running until stopped."""

from __future__ import annotations

from services.callbacks import CallbackSender, RetrySchedule, callback_lane
from services.clock import Clock
from services.delivery.engine import DeliveryEngine, DrainStats, EngineConfig
from services.delivery.ports import MemoryHeartbeats, MemoryLease, MemoryRateBudget, MemoryWorkQueue
from storage.database import Database

FAST = RetrySchedule(delays=(0.05, 0.05, 0.05), then_every=0.05, jitter=0.0)


class CallbackEngine:
    def __init__(self, db: Database, clock: Clock, *, schedule: RetrySchedule = FAST, name: str = "worker-1") -> None:
        self.sender = CallbackSender()
        lane = callback_lane(db, MemoryWorkQueue(), MemoryRateBudget(rate=1000, chat_rate=1000), clock,
                             sender=self.sender, schedule=schedule)
        # A short heartbeat: a stopped worker's claims come back within a fraction of a second.
        self.engine = DeliveryEngine(db, [lane], clock, name=name, heartbeats=MemoryHeartbeats(grace=0),
                                     lease=MemoryLease(), config=EngineConfig(heartbeat_ttl=0.15, sweep_interval=0.05))

    async def run_once(self) -> DrainStats:
        """Every callback due now, tried once (a retry is due later), before it returns."""
        return await self.engine.drain()

    async def close(self) -> None:
        await self.sender.close()

