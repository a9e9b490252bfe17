"""Periodic reporting of hazard statistics (16号令 art. 14): the one calendar, declared here.

Quarterly statistics are due by the 15th of the month after each quarter (the fourth quarter's by
15 January of the next year), the annual statistics by 31 January of the next year. A county may set
other deadlines for an enterprise (roster columns 季报截止日 and 年报截止日, :class:`Deadlines`).

**What counts as a period's statistics.** An enterprise reports through its workbook, from which the
statistics are computed (:mod:`dpsheets.rules.stats`). The statistics of a period are therefore the
*first submission received after the period's last day* (received on the day after it or later): a
workbook received on the last day of a quarter cannot hold the whole quarter. One workbook may count for
several periods (received on 10 January it is the fourth quarter's and the year's statistics). Its
status on an as-of date:

* 按时 (on time): received on or before the due date (and on or before as-of);
* 逾期 (late): received after the due date, on or before as-of;
* 未报送 (missing): nothing received by as-of, and as-of is past the due date;
* 未到期 (not yet due): nothing received by as-of, and the due date has not passed.

``as_of`` is always an input; nothing here reads the clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

QUARTER_DUE_DAY = 15  # the day of the month after the quarter
YEAR_DUE = (1, 31)  # month and day of the next year
QUARTERS_SHOWN = 4  # the summary's 报送情况 shows the last four quarters that have ended …
YEARS_SHOWN = 1  # … and the last year


class Status(str, Enum):
    ON_TIME = "按时"
    LATE = "逾期"
    MISSING = "未报送"
    PENDING = "未到期"


@dataclass(frozen=True, order=True)
class ReportingPeriod:
    """A quarter (*quarter* 1–4) or a year (*quarter* 0) whose statistics are due."""

    year: int
    quarter: int = 0

    def __post_init__(self) -> None:
        if self.quarter not in (0, 1, 2, 3, 4):
            raise ValueError(f"季度应为 1～4，而不是 {self.quarter}")

    @property
    def annual(self) -> bool:
        return self.quarter == 0

    @property
    def start(self) -> date:
        return date(self.year, 1 if self.annual else 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        if self.annual or self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year}年度" if self.annual else f"{self.year}年第{'一二三四'[self.quarter - 1]}季度"

    @functools.cached_property
    def key(self) -> str:
        """``2026Q3`` or ``2026`` (kept in the summary's hidden sheet)."""
        return str(self.year) if self.annual else f"{self.year}Q{self.quarter}"

    @classmethod
    def parse(cls, key: str) -> ReportingPeriod:
        m = re.fullmatch(r"(\d{4})(?:Q([1-4]))?", key.strip())
        if not m:
            raise ValueError(f"报送期间应写作 2026Q3 或 2026，而不是“{key}”")
        return cls(int(m.group(1)), int(m.group(2) or 0))

    @classmethod
    def quarter_of(cls, day: date) -> ReportingPeriod:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def previous(self) -> ReportingPeriod:
        if self.annual:
            return ReportingPeriod(self.year - 1)
        return ReportingPeriod(self.year, self.quarter - 1) if self.quarter > 1 else ReportingPeriod(self.year - 1, 4)


def due_quarter_day(day: int) -> int:
    """*day* if it is a day of every month after a quarter (April, July, October, January), else ValueError."""
    if not 1 <= day <= 30:
        raise ValueError(f"应为季度结束后次月的第几日（1～30；4 月只有 30 天），而不是 {day}")
    return day


def due_year_day(month: int, day: int) -> tuple[int, int]:
    """(month, day) if it is a day of every year (not 2月29日), else ValueError."""
    try:
        date(2027, month, day)  # a common year: 2月29日 is not a deadline every year has
    except ValueError:
        raise ValueError(f"“{month}月{day}日”不是每年都有的日期") from None
    return month, day


@dataclass(frozen=True)
class Deadlines:
    """When an enterprise's statistics are due: the *quarter_day* of the month after each quarter, and
    *year_month*/*year_day* of the year after. The default is 16号令's; a county may set others."""

    quarter_day: int = QUARTER_DUE_DAY
    year_month: int = YEAR_DUE[0]
    year_day: int = YEAR_DUE[1]

    def __post_init__(self) -> None:
        due_quarter_day(self.quarter_day)
        due_year_day(self.year_month, self.year_day)

    def due(self, period: ReportingPeriod) -> date:
        if period.annual:
            return date(period.year + 1, self.year_month, self.year_day)
        after = period.end + timedelta(days=1)
        return date(after.year, after.month, self.quarter_day)

    @property
    def is_default(self) -> bool:
        return self == DEFAULT

    def describe(self) -> str:
        return f"季报次月{self.quarter_day}日前、年报次年{self.year_month}月{self.year_day}日前"

    def as_text(self) -> tuple[str, str]:
        """(季报截止日, 年报截止日) as the roster and the summary write them."""
        return str(self.quarter_day), f"{self.year_month}月{self.year_day}日"


DEFAULT = Deadlines()


_DAY = re.compile(r"(?:次月|季后|季度后次月)?\s*(\d{1,2})\s*[日号]?")
_MONTH_DAY = re.compile(r"(?:次年)?\s*(\d{1,2})\s*(?:月|-|/|\.)\s*(\d{1,2})\s*[日号]?")


def parse_quarter_day(value: Any) -> int:
    """季报截止日 as a clerk writes it: 10, “10日”, “次月10日”. ValueError (Chinese) otherwise."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return due_quarter_day(value)
    m = _DAY.fullmatch(str(value).strip())
    if not m:
        raise ValueError(f"应写季度结束后次月的第几日，如“10”或“次月10日”，而不是“{value}”")
    return due_quarter_day(int(m.group(1)))


def parse_year_due(value: Any) -> tuple[int, int]:
    """年报截止日 as a clerk writes it: “2月28日”, “02-28”, a date (its month and day), or a day of January."""
    if isinstance(value, (date, datetime)):
        return due_year_day(value.month, value.day)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return due_year_day(YEAR_DUE[0], value)
    text = str(value).strip()
    if m := _MONTH_DAY.fullmatch(text):
        return due_year_day(int(m.group(1)), int(m.group(2)))
    if m := _DAY.fullmatch(text):
        return due_year_day(YEAR_DUE[0], int(m.group(1)))
    raise ValueError(f"应写次年的月和日，如“2月28日”或“02-28”，而不是“{value}”")


def status(received: date | None, due: date, as_of: date) -> Status:
    """The status of one period's statistics on *as_of* (see the module's documentation)."""
    if received is not None and received <= as_of:
        return Status.ON_TIME if received <= due else Status.LATE
    return Status.MISSING if as_of > due else Status.PENDING


def first_after(received: Iterable[date], period: ReportingPeriod, as_of: date) -> date | None:
    """The day the period's statistics arrived: the first of *received* after the period's end, by *as_of*."""
    return min((d for d in received if period.end < d <= as_of), default=None)


def periods(as_of: date, quarters: int = QUARTERS_SHOWN, years: int = YEARS_SHOWN) -> list[ReportingPeriod]:
    """The last *quarters* quarters and *years* years that have ended by *as_of*, in the order they fall due."""
    quarter = ReportingPeriod.quarter_of(as_of)
    if as_of < quarter.end:
        quarter = quarter.previous()
    out = []
    for _ in range(quarters):
        out.append(quarter)
        quarter = quarter.previous()
    year = ReportingPeriod(as_of.year if as_of >= date(as_of.year, 12, 31) else as_of.year - 1)
    for _ in range(years):
        out.append(year)
        year = year.previous()
    return sorted(out, key=lambda p: (DEFAULT.due(p), p))


def reference_period(as_of: date, deadlines: Deadlines = DEFAULT) -> ReportingPeriod:
    """The quarter whose "按时报送" a roll-up on *as_of* counts: the latest whose due date is on or before as-of."""
    quarter = ReportingPeriod.quarter_of(as_of)
    while deadlines.due(quarter) > as_of:
        quarter = quarter.previous()
    return quarter
