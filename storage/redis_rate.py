"""The shared send budget on Redis: one bot-wide rate, one rate per chat, and a bot-wide pause.

A generic cell rate algorithm that reserves slots: each call books the next free moment of the
bot-wide schedule (spaced 1/rate apart) and the caller sleeps until it, so workers on any number of
machines never contend in a retry loop and never overrun the rate. Times come from Redis (TIME),
so the machines' clocks do not matter. A 429 sets "paused until" for everyone and pushes the
schedule past it.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

# Replies: {0, delay_us} reserved, send after delay; {1, wait_us} paused; {2, wait_us} schedule full;
# {3, wait_us} this chat is busy for wait_us (nothing reserved). ARGV[4] = '1': the caller gave up
# its previous slot for this chat unused (a stall), so the chat's own booking does not count.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local gi, ci, lead = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then return {1, string.format('%.0f', paused - now)} end
local last = redis.call('GET', KEYS[1])
local g
if last then
  g = math.max(tonumber(last), now)
else
  -- No schedule: a first start, or Redis lost it. Slots booked before a loss may still be
  -- outstanding (up to `lead` ahead), so the new schedule starts after them.
  g = now + lead
  redis.call('SET', KEYS[1], string.format('%.0f', g), 'PX', math.floor(lead / 1000) + 60000)
end
local c = tonumber(redis.call('GET', KEYS[2]) or '0')
if c > g and ARGV[4] ~= '1' then return {3, string.format('%.0f', c - now)} end
if g - now > lead then return {2, string.format('%.0f', g - now - lead)} end
redis.call('SET', KEYS[1], string.format('%.0f', g + gi), 'PX', math.floor((g + gi - now) / 1000) + 60000)
redis.call('SET', KEYS[2], string.format('%.0f', g + ci), 'PX', math.floor((g + ci - now) / 1000) + 1000)
return {0, string.format('%.0f', g - now), string.format('%.0f', g)}
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untl = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if untl > paused then
  redis.call('SET', KEYS[2], string.format('%.0f', untl), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 1000)
end
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > g then redis.call('SET', KEYS[1], string.format('%.0f', untl), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 60000) end
return string.format('%.0f', math.max(untl, paused) - now)
"""


@dataclass(frozen=True)
class Reservation:
    """`delay`: seconds until the reserved slot; or nothing reserved and `wait` says for how long."""

    reserved: bool
    delay: float = 0.0
    wait: float = 0.0
    chat_busy: bool = False
    slot_us: int = 0  # the slot on the schedule's own clock (Redis time, microseconds), for checks


class RedisRateBudget:
    """`RateBudget` on Redis, shared by every worker of one bot."""

    def __init__(self, client: Redis, *, rate: float, chat_rate: float, platform: str,
                 max_lead: float = 1.0, prefix: str = "eblagh") -> None:
        self._client = client
        self._global_us = 1_000_000 / rate
        self._chat_us = 1_000_000 / chat_rate
        self._lead_us = max_lead * 1_000_000
        self._keys = f"{prefix}:rate:{platform}"
        self._reserve = client.register_script(_RESERVE)
        self._pause = client.register_script(_PAUSE)

    async def reserve(self, chat_id: int, *, again: bool = False) -> Reservation:
        """A slot for a message to `chat_id`; `again` after giving up an unused slot for the same chat."""
        reply = await self._reserve(
            keys=[f"{self._keys}:all", f"{self._keys}:chat:{chat_id}", f"{self._keys}:paused"],
            args=[f"{self._global_us:.0f}", f"{self._chat_us:.0f}", f"{self._lead_us:.0f}", "1" if again else "0"])
        code, micros = reply[0], reply[1]
        seconds = int(micros) / 1_000_000
        if int(code) == 0:
            return Reservation(True, delay=seconds, slot_us=int(reply[2]))
        return Reservation(False, wait=seconds, chat_busy=int(code) == 3)

    async def pause(self, seconds: float) -> float:
        """Every worker of the bot waits `seconds` (a 429's retry_after); returns the pause left."""
        left = await self._pause(keys=[f"{self._keys}:all", f"{self._keys}:paused"],
                                 args=[f"{seconds * 1_000_000:.0f}"])
        return int(left) / 1_000_000
