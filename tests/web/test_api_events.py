"""The event feed, test keys, import jobs, the docs, metrics and log privacy of the integration API."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlmodel import select

from bot.log_privacy import redact
from storage import citizens, messages, notices
from storage.database import Database
from storage.models import DeliveryStatus, Message
from tests.factories import next_national_id
from tests.web.api_kit import api_kit, case, citizen, ruling


async def _ingest(kit, nid: str, ruling_id: str, *, role: str = "ingest") -> dict:  # type: ignore[no-untyped-def, type-arg]
    await kit.client.post("/v1/citizens", json={"items": [citizen(nid)]}, headers=kit.auth(role))
    await kit.client.post("/v1/cases", json={"items": [case(nid, f"C-{ruling_id}")]}, headers=kit.auth(role))
    answer = await kit.client.post("/v1/rulings", json={"items": [ruling(nid, f"C-{ruling_id}", ruling_id)]},
                                   headers=kit.auth(role))
    return answer.json()["results"][0]  # type: ignore[no-any-return]


async def test_events_follow_the_facts_and_test_rulings_are_never_queued(db: Database, secret: bytes) -> None:
    async with api_kit(db, secret) as kit:
        nid = next_national_id()
        await _ingest(kit, nid, "R-LIVE")
        async with db.session() as session:
            found = await citizens.find_citizen_by_nid_hash(session, kit.services.ingest._hasher.national_id(nid))
            assert found is not None and found.id is not None
            await citizens.bind_chat(session, found.id, "telegram", 7001, 7001, datetime.now(UTC))
        test_result = await _ingest(kit, nid, "R-TEST", role="test")
        assert test_result["status"] == "inserted" and test_result["notices"] == [{"platform": "telegram", "status": "test"}]
        live = await kit.client.post("/v1/rulings", json={"items": [ruling(nid, "C-R-LIVE", "R-LIVE")]}, headers=kit.auth())
        assert live.json()["results"][0]["notices"] == [{"platform": "telegram", "status": "pending"}]

        now = datetime.now(UTC)
        async with db.session() as session:
            assert await messages.fan_out(session, now) == 1  # the live ruling only
            queued = (await session.exec(select(Message))).all()
        assert len(queued) == 1
        async with db.session() as session:
            claimed = await messages.claim(session, [queued[0].id or 0], now, "test")
            await messages.mark_sent(session, [(claimed[0], 55, now)])
        async with db.session() as session:
            assert await notices.record_first_view(session, queued[0].ref_id, platform="telegram", chat_id=7001,
                                                   user_id=7001, at=now)
        test_read = (await kit.client.get("/v1/rulings/R-TEST", headers=kit.auth("read"))).json()
        assert test_read["test"] is True and [n["status"] for n in test_read["notices"]] == ["test"]
        live_read = (await kit.client.get("/v1/rulings/R-LIVE", headers=kit.auth("read"))).json()
        assert [(n["status"], n["service_kind"]) for n in live_read["notices"]] == [("viewed", "viewed")]
        assert live_read["notices"][0]["appeal_deadline"] and live_read["notices"][0]["appeal_deadline_jalali"]

        page = (await kit.client.get("/v1/events?limit=2", headers=kit.auth("read"))).json()
        assert [e["type"] for e in page["events"]] == ["citizen.bound", "notice.delivered"]
        assert page["events"][1]["ruling_id"] == "R-LIVE" and page["events"][1]["case_number"] == "C-R-LIVE"
        assert nid not in str(page) and page["events"][0]["data"]["national_id_masked"].startswith(nid[:3])
        rest = (await kit.client.get(f"/v1/events?after={page['next']}", headers=kit.auth("read"))).json()
        assert [e["type"] for e in rest["events"]] == ["notice.viewed"]
        assert rest["events"][0]["id"] > page["events"][1]["id"] == page["next"]
        empty = (await kit.client.get(f"/v1/events?after={rest['next']}", headers=kit.auth("read"))).json()
        assert empty == {"events": [], "next": rest["next"]}

        async with db.session() as session:
            await messages.mark_final(session, queued[0].id or 0, DeliveryStatus.FAILED, "permanent: x")
        failed = (await kit.client.get(f"/v1/events?after={rest['next']}", headers=kit.auth("read"))).json()
        assert [(e["type"], e["data"]["reason"]) for e in failed["events"]] == [("notice.failed", "failed")]
        assert (await kit.client.get("/v1/events?after=-1", headers=kit.auth("read"))).status_code == 422


async def test_an_import_file_runs_in_the_background(db: Database, secret: bytes) -> None:
    async with api_kit(db, secret) as kit:
        good, bad = next_national_id(), "0000000000"
        csv = f"national_id,mobile,full_name,district\n{good},09121234567,مریم,5\n{bad},09121234568,علی,5\n"
        started = await kit.client.post("/v1/imports", data={"kind": "citizens"},
                                        files={"file": ("c.csv", csv.encode(), "text/csv")}, headers=kit.auth())
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        await kit.services.imports.wait()
        job = (await kit.client.get(f"/v1/imports/{job_id}", headers=kit.auth())).json()
        assert job["status"] == "finished" and (job["inserted"], job["bad"]) == (1, 1)
        assert job["errors"][0]["line"] == 3 and job["errors"][0]["field"] == "national_id"
        assert (await kit.client.get(f"/v1/imports/{job_id}", headers=kit.auth("broadcast"))).status_code == 404
        assert (await kit.client.get("/v1/imports/999", headers=kit.auth())).status_code == 404
        assert (await kit.client.post("/v1/imports", data={"kind": "rulings"}, headers=kit.auth())).status_code == 422
        await asyncio.sleep(0)


async def test_openapi_docs_and_metrics(db: Database, secret: bytes) -> None:
    async with api_kit(db, secret) as kit:
        spec = (await kit.client.get("/v1/openapi.json")).json()
        operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
                      if path.startswith("/v1/")]
        assert len(operations) >= 14
        for path, method, op in operations:  # an example for each endpoint
            has_example = any("example" in (spec["components"]["schemas"].get(
                (media.get("schema", {}).get("$ref") or "/").split("/")[-1], {})) or "example" in media
                for r in [op.get("requestBody", {}), *op["responses"].values()]
                for media in r.get("content", {}).values())
            assert has_example or method == "delete", (path, method)
        docs = await kit.client.get("/v1/docs")
        assert docs.status_code == 200 and "/v1/openapi.json" in docs.text
        assert "http://" not in docs.text.replace("http://test", "") and "https://" not in docs.text
        await kit.client.get("/v1/events", headers=kit.auth("read"))
        metrics = (await kit.client.get("/metrics")).text
        assert 'eblagh_api_requests_total{method="GET",route="/v1/events",status="200"} 1.0' in metrics
        assert "eblagh_callback_attempts" in metrics


def test_logs_never_hold_an_api_key_or_a_webhook_secret(caplog) -> None:  # type: ignore[no-untyped-def]
    key, whsec = "ebk_live_Zq3kPqK2d8bqkGm1vV7c0nW4p2rYx9aL", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    text = redact(f"Authorization: Bearer {key} secret={whsec}")
    assert key not in text and whsec not in text and "ebk_live_***" in text and "whsec_***" in text
    logging.getLogger("test").warning("%s", text)
