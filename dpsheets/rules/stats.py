"""Hazard statistics over a period: the quarterly report of 16号令 art. 14 (DOMAIN §5).

Counted per hazard register: found in the period; rectified (completed) in the period,
on time and late; open and overdue at the period's end; major hazards found and rectified.
"Late" and "overdue" are the hazard state of :mod:`dpsheets.rules.hazard_state`, evaluated at
the period's end: a hazard not rectified by then counts as overdue exactly when the checks
would have called it overdue on that day.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from dpsheets.rules.hazard_state import CLOSED_STATUS, MAJOR_LEVEL, holds
from dpsheets.workbook.model import Record

RECTIFIED_STATUSES = ("待验收", CLOSED_STATUS)  # the work is done (accepted or waiting for acceptance)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str

    @classmethod
    def quarter(cls, year: int, q: int) -> Period:
        if q not in (1, 2, 3, 4):
            raise ValueError(f"季度应为 1～4，而不是 {q}")
        start = date(year, 3 * q - 2, 1)
        end = (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)) - timedelta(days=1)
        return cls(start, end, f"{year}年第{'一二三四'[q - 1]}季度")

    @classmethod
    def quarter_of(cls, day: date) -> Period:
        return cls.quarter(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def last_complete_quarter(cls, day: date) -> Period:
        current = cls.quarter_of(day)
        return current if day >= current.end else cls.quarter_of(current.start - timedelta(days=1))

    @property
    def report_due(self) -> date:
        """The quarterly statistics' due date, from the one reporting calendar (:mod:`dpsheets.rules.reporting`)."""
        from dpsheets.rules.reporting import DEFAULT, ReportingPeriod

        return DEFAULT.due(ReportingPeriod.quarter_of(self.end))


@dataclass(frozen=True)
class HazardStats:
    found: int = 0
    rectified: int = 0
    rectified_on_time: int = 0
    rectified_late: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0
    major_found: int = 0
    major_rectified: int = 0
    major_open_at_end: int = 0
    rectified_of_found: int = 0  # of the hazards found in the period, how many were rectified by its end
    funds: float = 0.0

    @property
    def rectification_rate(self) -> float | None:
        return None if not self.found else self.rectified_of_found / self.found

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def hazard_stats(hazards: list[Record], period: Period) -> HazardStats:
    counts: dict[str, float] = dict.fromkeys(HazardStats.__dataclass_fields__, 0)
    counts["funds"] = 0.0
    for h in hazards:
        found, done = h["found_on"], h["completed_on"]
        major = h["level"] == MAJOR_LEVEL
        rectified = done is not None and h["status"] in RECTIFIED_STATUSES
        if found and period.start <= found <= period.end:
            counts["found"] += 1
            counts["major_found"] += major
            counts["funds"] += h["funds"] or 0
            counts["rectified_of_found"] += rectified and done <= period.end
        if rectified and period.start <= done <= period.end:
            counts["rectified"] += 1
            counts["major_rectified"] += major
            late = holds("completed_late", h, period.end)
            counts["rectified_late" if late else "rectified_on_time"] += 1
        if found and found <= period.end and not (rectified and done <= period.end):
            counts["open_at_end"] += 1
            counts["major_open_at_end"] += major
            counts["overdue_at_end"] += holds("overdue", _at_end(h, period.end), period.end)
    return HazardStats(**counts)  # type: ignore[arg-type]  # counts are ints but for funds


def _at_end(h: Record, end: date) -> dict[str, object]:
    """The hazard as it stood at *end*: one closed only after it was still open then."""
    values = {"status": h["status"], "deadline": h["deadline"], "completed_on": h["completed_on"]}
    if values["status"] == CLOSED_STATUS and values["completed_on"] is not None and values["completed_on"] > end:
        values["status"] = "整改中"
    return values
