"""Writes through the integration API on SQLite and PostgreSQL: per-item answers, roles, the limits."""

from __future__ import annotations

import pytest

from storage.database import Database
from tests.factories import next_national_id
from tests.web.api_kit import api_kit, case, citizen, ruling


async def test_a_citizen_a_case_and_a_ruling_are_answered_per_item(db: Database, secret: bytes) -> None:
    async with api_kit(db, secret) as kit:
        nid = next_national_id()
        first = await kit.client.post("/v1/citizens", json={"items": [citizen(nid), {"national_id": "123", "mobile": "x"}]},
                                      headers=kit.auth())
        assert first.status_code == 200, first.text
        ok, bad = first.json()["results"]
        assert ok["status"] == "inserted" and ok["id"].startswith(nid[:3]) and "*" in ok["id"] and ok["errors"] == []
        assert bad["status"] == "rejected" and bad["id"] is None
        assert bad["errors"][0]["field"] == "national_id" and bad["errors"][0]["reason"] == "not a valid national ID"
        assert "کد ملی" in bad["errors"][0]["reason_fa"]
        again = await kit.client.post("/v1/citizens", json={"items": [citizen(nid, full_name="دیگر")]}, headers=kit.auth())
        assert again.json()["results"][0]["status"] == "updated"

        cases = await kit.client.post("/v1/cases", json={"items": [case(nid, "1403-77"), case(next_national_id(), "1403-78")]},
                                      headers=kit.auth())
        assert [r["status"] for r in cases.json()["results"]] == ["inserted", "rejected"]
        assert cases.json()["results"][1]["errors"][0]["reason"] == "no citizen with this national ID"

        rulings = await kit.client.post("/v1/rulings", json={"items": [
            ruling(nid, "1403-77", "R-API-1"), ruling(nid, "1403-77", "R-API-2", kind="fine", fine_amount_rials=None)]},
            headers=kit.auth())
        good, refused = rulings.json()["results"]
        assert good == {"index": 0, "status": "inserted", "id": "R-API-1", "errors": [], "notices": []}
        assert refused["status"] == "rejected" and refused["id"] == "R-API-2" and refused["notices"] == []
        assert refused["errors"][0]["field"] == "fine_amount_rials"
        same = await kit.client.post("/v1/rulings", json={"items": [ruling(nid, "1403-77", "R-API-1")]}, headers=kit.auth())
        assert same.json()["results"][0]["status"] == "unchanged"

        read = await kit.client.get("/v1/rulings/R-API-1", headers=kit.auth("read"))
        assert read.status_code == 200
        body = read.json()
        assert body["ruling_id"] == "R-API-1" and body["case_number"] == "1403-77" and nid not in read.text
        assert body["national_id_masked"].startswith(nid[:3]) and body["notices"] == [] and body["test"] is False
        assert (await kit.client.get("/v1/rulings/R-NOPE", headers=kit.auth("read"))).status_code == 404


async def test_roles_and_authentication(db: Database, secret: bytes) -> None:
    async with api_kit(db, secret) as kit:
        body = {"items": [citizen()]}
        assert (await kit.client.post("/v1/citizens", json=body)).status_code == 401
        wrong = await kit.client.post("/v1/citizens", json=body, headers={"Authorization": "Bearer ebk_live_nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
        assert wrong.headers["www-authenticate"] == "Bearer"
        forbidden = await kit.client.post("/v1/citizens", json=body, headers=kit.auth("read"))
        assert forbidden.status_code == 403 and forbidden.json()["error"]["message_fa"]
        assert (await kit.client.post("/v1/citizens", json=body, headers=kit.auth("broadcast"))).status_code == 200
        assert (await kit.client.get("/v1/events", headers=kit.auth("read"))).status_code == 200
        news = {"text": "جلسه شنبه است", "segment": "all"}
        assert (await kit.client.post("/v1/broadcasts", json=news, headers=kit.auth("ingest"))).status_code == 403
        made = await kit.client.post("/v1/broadcasts", json=news, headers=kit.auth("broadcast"))
        assert made.status_code == 200 and made.json()["recipients"] == 0
        status = await kit.client.get(f"/v1/broadcasts/{made.json()['id']}", headers=kit.auth("read"))
        assert status.status_code == 200 and set(status.json()) == {"id", "state", "recipients", "sent", "failed",
                                                                     "blocked", "pending"}
        assert (await kit.client.get("/v1/broadcasts/999999", headers=kit.auth("read"))).status_code == 404
        bad = await kit.client.post("/v1/broadcasts", json={**news, "segment": "district:abc"}, headers=kit.auth("broadcast"))
        assert bad.status_code == 422

        assert await kit.services.keys.revoke("k-ingest")
        assert (await kit.client.post("/v1/citizens", json=body, headers=kit.auth())).status_code == 401


async def test_idempotency_replay_mismatch_and_in_flight(db: Database, secret: bytes) -> None:
    async with api_kit(db, secret) as kit:
        nid = next_national_id()
        body = {"items": [citizen(nid)]}
        headers = {**kit.auth(), "Idempotency-Key": "req-1"}
        first = await kit.client.post("/v1/citizens", json=body, headers=headers)
        replay = await kit.client.post("/v1/citizens", json=body, headers=headers)
        assert first.status_code == replay.status_code == 200
        assert replay.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
        assert replay.json() == first.json() and first.json()["results"][0]["status"] == "inserted"
        other = await kit.client.post("/v1/citizens", json={"items": [citizen()]}, headers=headers)
        assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_mismatch"
        # the same key under another API key is another request
        own = await kit.client.post("/v1/citizens", json=body, headers={**kit.auth("broadcast"), "Idempotency-Key": "req-1"})
        assert own.status_code == 200 and own.json()["results"][0]["status"] == "unchanged"
        # a first request still running: its record has no answer yet
        key = await kit.services.keys.authenticate(kit.keys["ingest"])
        assert key is not None
        from services.idempotency import body_hash
        begun = await kit.services.idempotency.begin(key.id, "req-2", body_hash("POST", "/v1/citizens", b"{\"items\":[]}"))
        assert begun.verdict == "new"
        busy = await kit.client.post("/v1/citizens", content=b"{\"items\":[]}", headers={**kit.auth(), "Idempotency-Key": "req-2",
                                                                          "content-type": "application/json"})
        assert busy.status_code == 409


async def test_limits_1000_items_and_10_mb(db: Database, secret: bytes) -> None:
    async with api_kit(db, secret, max_body=10 * 1024 * 1024) as kit:
        many = await kit.client.post("/v1/citizens", json={"items": [{"national_id": "1"}] * 1001}, headers=kit.auth())
        assert many.status_code == 422 and many.json()["error"]["code"] == "invalid"
        thousand = await kit.client.post("/v1/citizens", json={"items": [{"national_id": "1"}] * 1000}, headers=kit.auth())
        assert thousand.status_code == 200 and len(thousand.json()["results"]) == 1000
        huge = b'{"items": [{"text": "' + b"x" * (10 * 1024 * 1024) + b'"}]}'
        too_large = await kit.client.post("/v1/rulings", content=huge, headers={**kit.auth(), "content-type": "application/json"})
        assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "too_large"
        assert too_large.headers["x-request-id"]


async def test_rate_limit_answers_429_with_retry_after(db: Database, secret: bytes) -> None:
    from services.api_rate import MemoryRateLimiter

    async with api_kit(db, secret, rate=MemoryRateLimiter(rate=1, burst=2)) as kit:
        codes = [(await kit.client.get("/v1/events", headers=kit.auth("read"))) for _ in range(3)]
        assert [c.status_code for c in codes] == [200, 200, 429]
        assert codes[2].headers["retry-after"] == "1" and codes[2].json()["error"]["code"] == "rate_limited"


@pytest.mark.redis
async def test_rate_limit_shared_through_redis(db: Database, secret: bytes, redis_url: str) -> None:
    import redis.asyncio as redis

    from storage.redis_api_rate import RedisRateLimiter

    client = redis.Redis.from_url(redis_url)
    try:
        one, two = RedisRateLimiter(client, rate=1, burst=2), RedisRateLimiter(client, rate=1, burst=2)
        waits = [await one.take("k1"), await two.take("k1"), await one.take("k1")]
        assert waits[:2] == [0.0, 0.0] and 0 < waits[2] <= 1.0
        assert await two.take("k2") == 0.0
    finally:
        await client.aclose()
