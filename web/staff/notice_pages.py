"""The overview, the notice search and a notice's proof of service (with CSV and JSON downloads)."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from services.dashboard import BUCKET_KEYS
from services.notice_search import NoticeState, QueryKind
from services.receipts import RECEIPT_FIELDS
from services.staff_accounts import Permission
from services.staff_sessions import ActiveSession
from web.staff.guard import requires
from web.staff.render import Pages, jdate
from web.staff.services import staff_services


def _int(value: str | None) -> int | None:
    from nlp.digits import to_ascii_digits

    text = to_ascii_digits(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def add_routes(router: APIRouter, pages: Pages) -> None:
    @router.get("/")
    async def overview(request: Request, session: ActiveSession = requires(Permission.VIEW_ACTIVITY)) -> Response:
        services = staff_services(request)
        data = await services.dashboard.overview()
        charts = {
            "daily": {"labels": [jdate(d) for d in data.days], "delivered": data.delivered_daily,
                      "viewed": data.viewed_daily},
            "buckets": {"keys": list(BUCKET_KEYS), "values": [data.buckets[k] for k in BUCKET_KEYS]},
        }
        return pages.render(request, "staff/overview.html", data=data, charts=json.dumps(charts).replace("</", "<\\/"),
                            open_questions=await services.inbox.open_count())

    @router.get("/queue")
    async def queue(request: Request, session: ActiveSession = requires(Permission.VIEW_ACTIVITY)) -> Response:
        """The live part of the overview: queue depth and the age of its oldest message."""
        data = await staff_services(request).dashboard.overview()
        return pages.render(request, "staff/_queue.html", data=data)

    @router.get("/notices")
    async def notices(request: Request, session: ActiveSession = requires(Permission.VIEW_ACTIVITY),
                      q: str = Query("", max_length=64), state: str = "", district: str = "", page: str = "1",
                      cid: list[int] = Query(default=[])) -> Response:  # noqa: B008
        services = staff_services(request)
        chosen = NoticeState(state) if state in NoticeState.__members__.values() else None
        result = await services.notices.search(q, state=chosen, district=_int(district), page=_int(page) or 1,
                                               citizen_ids=cid or None, actor=session.member.actor)
        # Next pages of a search by national ID or mobile carry the citizens found, never the number.
        carried = [("state", state), ("district", district)]
        carried += [("cid", str(c)) for c in result.citizen_ids or []] if result.kind is not QueryKind.TEXT else \
            [("q", result.shown_query)]
        return pages.render(request, "staff/notices.html", result=result, state=state, district=district,
                            districts=await services.notices.districts(), states=list(NoticeState),
                            pager="/staff/notices?" + urlencode(carried))

    @router.get("/notices/{notice_id}")
    async def proof(request: Request, notice_id: int,
                    session: ActiveSession = requires(Permission.VIEW_ACTIVITY)) -> Response:
        page = await staff_services(request).notices.proof(notice_id)
        if page is None:
            raise HTTPException(404, "no such notice")
        return pages.render(request, "staff/proof.html", page=page, line=page.detail.line)

    @router.get("/notices/{notice_id}/receipt.{fmt}")
    async def receipt(request: Request, notice_id: int, fmt: str,
                      session: ActiveSession = requires(Permission.VIEW_ACTIVITY)) -> Response:
        if fmt not in ("csv", "json"):
            raise HTTPException(404, "csv or json")
        services = staff_services(request)
        page = await services.notices.proof(notice_id)
        if page is None:
            raise HTTPException(404, "no such notice")
        await services.audit.record(actor=session.member.actor, action="notice.proof_downloaded",
                                    subject=str(notice_id), detail={"format": fmt})
        records = [r.as_dict() for r in page.records]
        name = f"proof-{page.detail.line.ruling.ruling_id}.{fmt}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
        if fmt == "json":
            body = json.dumps({"notice_id": notice_id, "records": records,
                               "proof_chain": [{"seq": r.seq, "kind": r.kind, "occurred_at": r.occurred_at.isoformat(),
                                                "prev_hash": r.prev_hash, "hash": r.hash}
                                               for r in page.detail.proof]}, ensure_ascii=False, indent=2)
            return Response(body, media_type="application/json", headers=headers)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(RECEIPT_FIELDS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
