"""Per-chat ordered processing on Redis, for several `eblagh run` processes behind one webhook.

Each chat has a queue (a sorted set of update ids, payloads in a hash) and a lock with a lease.
Whichever process takes the lock handles the queue in update_id order until it is empty; the lock
is released only by a script that first checks the queue is empty, so an update submitted while
the holder is finishing is never left behind. The holder renews the lease while it works; a holder
that dies leaves its queue to the next submit or to a sweep after the lease runs out.

Given the bot's update ledger (storage/redis_updates.py), the same scripts keep it: a queued update
already marked handled is dropped unhandled (its holder died between the mark and dropping it), and
finishing an update marks it. That saves the pipeline two round trips per update (is_handled and
mark_handled), and the mark still comes after the update's replies went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from storage.redis_updates import RedisUpdateLedger

log = logging.getLogger(__name__)

Handle = Callable[[int, str], Awaitable[None]]

_SUBMIT = """
if redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('SADD', KEYS[3], ARGV[3])
  return 1
end
return 0
"""
# The queue's head, or, when the queue is empty, the release: the lock (if still ours) and the chat's
# pending mark, atomically, so an update submitted while the holder finishes is never left behind.
# {1, update_id, payload-or-false}: handle it; {2}: released, the drain is over.
# ARGV[4]: the ledger's key prefix ('' without one), ARGV[5]: how long a mark is kept, in seconds.
# (Ledger keys are named here, not in KEYS: one Redis, never a cluster, holds eblagh's keys.)
_HEAD = """
local function head()
  while true do
    local first = redis.call('ZRANGE', KEYS[1], 0, 0)
    if #first == 0 then
      if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
      redis.call('SREM', KEYS[4], ARGV[2])
      return {2}
    end
    if ARGV[4] == '' or redis.call('EXISTS', ARGV[4] .. ':' .. first[1]) == 0 then
      return {1, first[1], redis.call('HGET', KEYS[2], first[1])}
    end
    redis.call('ZREM', KEYS[1], first[1])
    redis.call('HDEL', KEYS[2], first[1])
  end
end
"""
# Take the chat (lock with a lease) and its first update in one round trip; {0}: someone else holds it.
_TAKE = _HEAD + """
if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[3]) then return {0} end
return head()
"""
# One update done: mark it handled, drop it and give the next (or release), in one round trip.
_NEXT = _HEAD + """
if ARGV[4] ~= '' then redis.call('SET', ARGV[4] .. ':' .. ARGV[3], 1, 'EX', ARGV[5], 'NX') end
redis.call('ZREM', KEYS[1], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[3])
return head()
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class LeaseLost(RuntimeError):
    """The lease ran out while handling (a stall longer than the lease): another holder may be in."""


class RedisChatLocks:
    durable = True

    def __init__(self, client: Redis, *, prefix: str = "eblagh", lease_seconds: float = 30.0,
                 ledger: RedisUpdateLedger | None = None) -> None:
        self._client = client
        self.marks_handled = ledger is not None
        self._ledger_args: list[str | int] = [ledger.key_prefix, ledger.keep_seconds] if ledger else ["", 0]
        self._prefix = f"{prefix}:chat"
        self._lease_ms = int(lease_seconds * 1000)
        self._holder = uuid.uuid4().hex  # this process; each drain adds its own suffix
        self._submit = client.register_script(_SUBMIT)
        self._take = client.register_script(_TAKE)
        self._next = client.register_script(_NEXT)
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)

    def _keys(self, chat: str) -> tuple[str, str, str]:
        return f"{self._prefix}:{chat}:queue", f"{self._prefix}:{chat}:payloads", f"{self._prefix}:{chat}:lock"

    @property
    def _pending(self) -> str:
        return f"{self._prefix}s:pending"

    async def submit(self, chat: str, update_id: int, payload: str) -> bool:
        queue, payloads, _ = self._keys(chat)
        added = await self._submit(keys=[queue, payloads, self._pending], args=[update_id, payload, chat])
        return bool(int(added))

    async def drain(self, chat: str, handle: Handle) -> int:
        queue, payloads, lock = self._keys(chat)
        keys = [queue, payloads, lock, self._pending]
        token = f"{self._holder}:{uuid.uuid4().hex[:8]}"
        # Two round trips for a chat with one update: take (lock + head), then next (done + release).
        step = await self._take(keys=keys, args=[token, chat, self._lease_ms, *self._ledger_args])
        if int(step[0]) == 0:
            return 0
        lost = asyncio.Event()
        keeper = asyncio.create_task(self._keep(lock, token, lost))
        handled = 0
        try:
            while int(step[0]) == 1:
                update_id, payload = int(step[1]), step[2]
                if payload is not None:
                    await handle(update_id, payload.decode() if isinstance(payload, bytes) else payload)
                    handled += 1
                step = await self._next(keys=keys, args=[token, chat, update_id, *self._ledger_args])
                if lost.is_set():
                    raise LeaseLost(f"lease on chat {chat} ran out while handling")
            return handled
        except BaseException:
            await self._release(keys=[lock], args=[token])
            raise
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep(self, lock: str, token: str, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                if not int(await self._renew(keys=[lock], args=[token, self._lease_ms])):
                    lost.set()
                    return
            except Exception:  # Redis unreachable for a moment: the next renewal may succeed
                log.warning("could not renew a chat lease", exc_info=True)

    async def pending_chats(self) -> list[str]:
        members = await self._client.smembers(self._pending)  # type: ignore[misc]
        return sorted(m.decode() if isinstance(m, bytes) else m for m in members)
