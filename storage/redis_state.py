"""Conversation state on Redis: one hash a chat, expiring like the in-memory store.

Generic over the state type so storage needs nothing from services: the composition root passes
`ChatState.from_mapping` / `ChatState.to_mapping`, and the store then satisfies
services.state.StateStore structurally.

The case context for follow-up questions has its own key per chat (`eblagh:context:...`), so saving
or clearing a step never touches it and the reverse; its expiry only frees memory (the service that
reads it decides freshness by its own clock). It is one JSON string, written by one SET ... EX (it is
written after most answers); a hash left by an older version reads as no context until overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Generic, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ResponseError

T = TypeVar("T")


class RedisStateStore(Generic[T]):
    def __init__(self, client: Redis, *, decode: Callable[[dict[str, str]], T],
                 encode: Callable[[T], dict[str, str]], ttl_seconds: int = 3600, context_ttl_seconds: int = 1800,
                 prefix: str = "eblagh") -> None:
        self._client = client
        self._decode = decode
        self._encode = encode
        self._ttl = ttl_seconds
        self._context_ttl = context_ttl_seconds
        self._prefix = f"{prefix}:state"
        self._context_prefix = f"{prefix}:context"

    def _key(self, platform: str, chat_id: int) -> str:
        return f"{self._prefix}:{platform}:{chat_id}"

    async def load(self, platform: str, chat_id: int) -> T:
        return self._state(await self._client.hgetall(self._key(platform, chat_id)))  # type: ignore[misc]

    async def load_with_context(self, platform: str, chat_id: int) -> tuple[T, dict[str, str]]:
        # Two reads in one round trip; no MULTI: each key is read whole, and a chat's updates are serialised.
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key(platform, chat_id))
            pipe.get(self._context_key(platform, chat_id))
            state, context = await pipe.execute(raise_on_error=False)
        if isinstance(state, Exception):
            raise state
        return self._state(state), _context(context)

    def _state(self, stored: dict[bytes | str, bytes | str]) -> T:
        return self._decode({_text(k): _text(v) for k, v in stored.items()})

    async def save(self, platform: str, chat_id: int, state: T) -> None:
        key = self._key(platform, chat_id)
        # Replace, not merge: a field the new state lacks must not survive from the old one.
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=self._encode(state))  # type: ignore[arg-type]
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def clear(self, platform: str, chat_id: int) -> None:
        await self._client.delete(self._key(platform, chat_id))

    def _context_key(self, platform: str, chat_id: int) -> str:
        return f"{self._context_prefix}:{platform}:{chat_id}"

    async def load_context(self, platform: str, chat_id: int) -> dict[str, str]:
        try:
            stored = await self._client.get(self._context_key(platform, chat_id))
        except ResponseError:  # WRONGTYPE: an older version's hash
            return {}
        return _context(stored)

    async def save_context(self, platform: str, chat_id: int, mapping: dict[str, str]) -> None:
        await self._client.set(self._context_key(platform, chat_id), json.dumps(mapping), ex=self._context_ttl)

    async def clear_context(self, platform: str, chat_id: int) -> None:
        await self._client.delete(self._context_key(platform, chat_id))


def _context(stored: object) -> dict[str, str]:
    """A stored context, or {} for none, a damaged one or an older version's hash (WRONGTYPE)."""
    if not isinstance(stored, (bytes, str)):
        return {}
    try:
        mapping = json.loads(stored)
    except ValueError:
        return {}
    if not isinstance(mapping, dict):
        return {}
    return {str(k): str(v) for k, v in mapping.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
