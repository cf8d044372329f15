"""The commission secretariats of Tehran's 22 districts (a data file; see its note on sample data)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).parent / "data" / "offices.json"


@dataclass(frozen=True)
class Office:
    district: int
    name: str
    address: str
    phone: str
    hours: str
    sample: bool


class OfficeDirectory:
    def __init__(self, offices: dict[int, Office]) -> None:
        self._offices = offices

    @classmethod
    def load(cls, path: Path | None = None) -> OfficeDirectory:
        document = json.loads((path or DEFAULT_PATH).read_text(encoding="utf-8"))
        offices = {int(o["district"]): Office(int(o["district"]), o["name"], o["address"], o["phone"], o["hours"],
                                              bool(o.get("sample", False)))
                   for o in document["offices"]}
        return cls(offices)

    def for_district(self, district: int | None) -> Office | None:
        return self._offices.get(district) if district is not None else None

    def __len__(self) -> int:
        return len(self._offices)
