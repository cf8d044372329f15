"""Keyword-only factories with sensible defaults: `await create_citizen(session, hasher, district=5)`."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.privacy import Hasher, masked_mobile, masked_national_id
from storage.models import Case, Citizen, Notice, Ruling

_counter = itertools.count(1)


def national_id_from(prefix9: str) -> str:
    """Complete nine digits with the checksum digit (DESIGN.md rule)."""
    digits = [int(c) for c in prefix9]
    r = sum(d * (10 - i) for i, d in enumerate(digits)) % 11
    return prefix9 + str(r if r < 2 else 11 - r)


def random_national_id(rng: random.Random) -> str:
    while True:
        candidate = national_id_from(f"{rng.randrange(10**9):09d}")
        if len(set(candidate)) > 1:
            return candidate


def next_national_id() -> str:
    return national_id_from(f"{100000000 + next(_counter) * 7919:09d}")


def next_mobile() -> str:
    return f"+98912{next(_counter) % 10**7:07d}"


async def create_citizen(session: AsyncSession, hasher: Hasher, *, national_id: str | None = None,
                         mobile: str | None = None, full_name: str = "شهروند آزمایشی",
                         district: int | None = 5) -> Citizen:
    national_id = national_id or next_national_id()
    mobile = mobile or next_mobile()
    citizen = Citizen(nid_hash=hasher.national_id(national_id), nid_masked=masked_national_id(national_id),
                      mobile_hash=hasher.mobile(mobile), mobile_masked=masked_mobile(mobile),
                      full_name=full_name, district=district)
    session.add(citizen)
    await session.flush()
    return citizen


async def create_case(session: AsyncSession, citizen: Citizen, *, case_number: str | None = None,
                      status: str = "hearing_scheduled", district: int | None = 5,
                      hearing_at: datetime | None = None) -> Case:
    assert citizen.id is not None
    case = Case(case_number=case_number or f"1403{next(_counter):06d}", citizen_id=citizen.id, status=status,
                district=district, address="خیابان آزمایش، پلاک ۱", violation="اضافه اشکوب",
                hearing_at=hearing_at or datetime(2025, 2, 10, 6, 0, tzinfo=UTC))
    session.add(case)
    await session.flush()
    return case


async def create_ruling(session: AsyncSession, case: Case, *, ruling_id: str | None = None,
                        commission: str = "first", kind: str = "fine", issued_on: date = date(2025, 1, 20),
                        fine_amount_rials: int | None = 1_250_000_000, text: str = "متن کامل رأی",
                        with_notice: bool = True) -> Ruling:
    assert case.id is not None
    ruling = Ruling(ruling_id=ruling_id or f"R-{next(_counter):06d}", case_id=case.id,
                    citizen_id=case.citizen_id, commission=commission, kind=kind, issued_on=issued_on,
                    fine_amount_rials=fine_amount_rials, summary="خلاصه رأی", text=text)
    session.add(ruling)
    await session.flush()
    if with_notice:
        assert ruling.id is not None
        session.add(Notice(ruling_pk=ruling.id, citizen_id=case.citizen_id))
        await session.flush()
    return ruling
