"""Handled Bot API update ids on Redis, shared by every `eblagh run` process of one bot."""

from __future__ import annotations

from redis.asyncio import Redis

from storage.updates import KEEP_MARKS

KEEP_SECONDS = int(KEEP_MARKS.total_seconds())


class RedisUpdateLedger:
    def __init__(self, client: Redis, bot: str, prefix: str = "eblagh") -> None:
        self._client = client
        self._prefix = f"{prefix}:update:{bot}"
        self.keep_seconds = KEEP_SECONDS

    @property
    def key_prefix(self) -> str:
        """Marks are `{key_prefix}:{update_id}` (storage/redis_chat_lock.py keeps them too)."""
        return self._prefix

    async def is_handled(self, update_id: int) -> bool:
        return bool(await self._client.exists(f"{self._prefix}:{update_id}"))

    async def handled_among(self, update_ids: list[int]) -> set[int]:
        marks = await self._client.mget([f"{self._prefix}:{update_id}" for update_id in update_ids])
        return {update_id for update_id, mark in zip(update_ids, marks, strict=True) if mark is not None}

    async def mark_handled(self, update_id: int) -> None:
        # NX: a mark is never rewritten, so its expiry counts from the first handling.
        await self._client.set(f"{self._prefix}:{update_id}", 1, ex=KEEP_SECONDS, nx=True)
