"""The delivery queue on Redis Streams: one stream per lane and platform, one consumer group of workers.

An entry carries a reference to a database row ("m:12"); the row stays the truth. A set
beside the stream holds the references currently queued, so the sweeper can tell what Redis lost
(after a wipe or a restart) and queue it again without piling up copies. A worker that dies leaves
its entries pending in the group: once its heartbeat has stopped the others drop them (`forget`) and
the sweeper queues their rows again; entries idle past the claim timeout are taken over with XAUTOCLAIM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

GROUP = "workers"

# Queue each reference that is not queued yet; returns how many were added.
_PUSH = """
local added = 0
for i, ref in ipairs(ARGV) do
  if redis.call('SADD', KEYS[2], ref) == 1 then
    redis.call('XADD', KEYS[1], '*', 'ref', ref)
    added = added + 1
  end
end
return added
"""


@dataclass(frozen=True)
class QueueItem:
    entry_id: str
    ref: str


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _item(entry_id: Any, fields: Any) -> QueueItem:
    return QueueItem(_text(entry_id), _text(fields.get(b"ref") or fields.get("ref") or b""))


class RedisWorkQueue:
    """`WorkQueue` on Redis; every worker of a lane and platform shares the stream and the group."""

    def __init__(self, client: Redis, name: str, prefix: str = "eblagh") -> None:
        self._client = client
        self._stream = f"{prefix}:q:{name}"
        self._members = f"{prefix}:q:{name}:in"
        self._push = client.register_script(_PUSH)
        self._cursor = "0-0"

    async def _ensure_group(self) -> None:
        try:
            await self._client.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def push(self, refs: Sequence[str]) -> int:
        added = 0
        for start in range(0, len(refs), 500):
            added += int(await self._push(keys=[self._stream, self._members], args=list(refs[start:start + 500])))
        return added

    async def pull(self, consumer: str, count: int, block_ms: int) -> list[QueueItem]:
        try:
            reply: Any = await self._client.xreadgroup(GROUP, consumer, {self._stream: ">"}, count=count,
                                                  block=block_ms)
        except ResponseError as error:
            # NOGROUP: a first start, or Redis lost everything; UNBLOCKED: it did so while we waited.
            if "NOGROUP" not in str(error) and "UNBLOCKED" not in str(error):
                raise
            await self._ensure_group()  # the sweeper refills the stream from the database
            return []
        return [_item(entry_id, fields) for _stream, entries in reply or [] for entry_id, fields in entries]

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[QueueItem]:
        """Entries another consumer took and has not finished for `min_idle_ms` (it died)."""
        try:
            reply: Any = await self._client.xautoclaim(self._stream, GROUP, consumer, min_idle_ms,
                                                  start_id=self._cursor, count=count)
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await self._ensure_group()
            return []
        self._cursor = _text(reply[0])
        return [_item(entry_id, fields) for entry_id, fields in reply[1] if fields]

    async def done(self, items: Sequence[QueueItem]) -> None:
        if not items:
            return
        async with self._client.pipeline(transaction=True) as pipe:
            ids = [item.entry_id for item in items]
            pipe.xack(self._stream, GROUP, *ids)
            pipe.xdel(self._stream, *ids)
            pipe.srem(self._members, *[item.ref for item in items])
            await pipe.execute()

    async def missing(self, refs: Sequence[str]) -> list[str]:
        if not refs:
            return []
        present = await self._client.smismember(self._members, list(refs))
        return [ref for ref, there in zip(refs, present, strict=True) if not there]

    async def backlog(self) -> int:
        return int(await self._client.xlen(self._stream))

    async def consumers(self) -> list[str]:
        try:
            found: Any = await self._client.xinfo_consumers(self._stream, GROUP)
        except ResponseError:  # no stream or no group yet: nobody holds anything
            return []
        return [_text(c["name"]) for c in found if int(c.get("pending", 0))]

    async def forget(self, consumer: str) -> int:
        """Drop what a stopped consumer held, and the consumer itself."""
        dropped = 0
        while True:
            try:
                pending: Any = await self._client.xpending_range(self._stream, GROUP, min="-", max="+", count=500,
                                                                 consumername=consumer)
            except ResponseError:
                return dropped
            if not pending:
                break
            ids = [_text(p["message_id"]) for p in pending]
            entries: Any = await self._client.xrange(self._stream, min=ids[0], max=ids[-1])
            refs = [_item(entry_id, fields).ref for entry_id, fields in entries if _text(entry_id) in set(ids)]
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.xack(self._stream, GROUP, *ids)
                pipe.xdel(self._stream, *ids)
                if refs:
                    pipe.srem(self._members, *refs)
                await pipe.execute()
            dropped += len(ids)
        await self._client.xgroup_delconsumer(self._stream, GROUP, consumer)
        return dropped
