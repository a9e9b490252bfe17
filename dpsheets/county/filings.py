"""报送情况: did each enterprise's periodic statistics arrive on time (16号令 art. 14)?

The calendar and what counts as a period's statistics are :mod:`dpsheets.rules.reporting`: per
enterprise and period, the first submission received after the period's end, compared with the
enterprise's due date (the roster may set its own). Computed in SQL from the archive (one pass over
the submissions per archive, several archives merged by taking the earliest), written to the summary's
报送情况 sheet (counts per period, then enterprise × period) and to a hidden sheet (per credit code: its
own deadlines and the day each period's statistics arrived) from which a city or province roll-up
carries it exactly.

"按时报送" of the roll-up's groups is :meth:`Filings.on_time`: the enterprise's statistics for the
reference quarter (the latest quarter due on or before as-of, :func:`reporting.reference_period`)
arrived by its due date.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dpsheets.rules import reporting
from dpsheets.rules.reporting import Deadlines, ReportingPeriod, Status
from dpsheets.workbook.registers import identity_columns

SHEET = "报送情况"
HIDDEN = "_dpsheets_reporting"  # uscc, own deadlines, the day each period's statistics arrived (blank: none)
COUNT_HEAD = ("报送期间", "报送期限", "应报企业", *(s.value for s in Status), "按时报送率")
OWN_DEADLINES = "本企业报送期限"
EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's date numbers  # the matrix column for deadlines a roster set


@dataclass(frozen=True)
class Filing:
    """One enterprise's statistics for one period: when due, and the day they arrived (None: not yet)."""

    period: ReportingPeriod
    due: date
    received: date | None

    def status(self, as_of: date) -> Status:
        return reporting.status(self.received, self.due, as_of)


@dataclass
class Filings:
    """Every listed enterprise's filings for *periods* on *as_of*: per credit code the day each period's
    statistics arrived (*received*, in the order of *periods*; None: not yet), due by the enterprise's own
    deadlines (*own*) or else 16号令's. Kept as plain days (a province has a hundred thousand enterprises);
    :attr:`by_uscc` shows them as :class:`Filing` objects."""

    as_of: date
    periods: list[ReportingPeriod]
    received: dict[str, list[date | None]] = field(default_factory=dict)
    own: dict[str, Deadlines] = field(default_factory=dict)  # enterprises with deadlines of their own

    def __post_init__(self) -> None:
        self.index = {p.key: i for i, p in enumerate(self.periods)}
        self.default_due = [reporting.DEFAULT.due(p) for p in self.periods]  # the same for most enterprises: once

    @functools.cached_property
    def reference(self) -> ReportingPeriod:
        return reporting.reference_period(self.as_of)

    def due(self, uscc: str, i: int) -> date:
        """When the enterprise's statistics for ``periods[i]`` are due."""
        own = self.own.get(uscc)
        return self.default_due[i] if own is None else own.due(self.periods[i])

    def status(self, uscc: str, period: ReportingPeriod) -> Status | None:
        days, i = self.received.get(uscc), self.index.get(period.key)
        return None if days is None or i is None else reporting.status(days[i], self.due(uscc, i), self.as_of)

    def on_time(self, uscc: str) -> bool:
        """The enterprise's statistics for the reference quarter arrived by their due date."""
        return self.status(uscc, self.reference) is Status.ON_TIME

    def counts(self, period: ReportingPeriod) -> dict[Status, int]:
        out = dict.fromkeys(Status, 0)
        i = self.index.get(period.key)
        if i is not None:
            for uscc, days in self.received.items():
                out[reporting.status(days[i], self.due(uscc, i), self.as_of)] += 1
        return out

    @property
    def by_uscc(self) -> Mapping[str, dict[str, Filing]]:
        """uscc → period key → :class:`Filing` (made when asked for)."""
        return _ByUscc(self)


class _ByUscc(Mapping[str, dict[str, Filing]]):
    def __init__(self, filings: Filings) -> None:
        self.filings = filings

    def __getitem__(self, uscc: str) -> dict[str, Filing]:
        f = self.filings
        days = f.received[uscc]
        return {p.key: Filing(p, f.due(uscc, i), days[i]) for i, p in enumerate(f.periods)}

    def __iter__(self) -> Iterator[str]:
        return iter(self.filings.received)

    def __len__(self) -> int:
        return len(self.filings.received)


def build(as_of: date, periods: Sequence[ReportingPeriod], received: Mapping[str, Mapping[str, date | None]],
          usccs: Iterable[str], own: Mapping[str, Deadlines] | None = None) -> Filings:
    """The filings of *usccs* from the days their statistics arrived (*received*: uscc → period key → day)."""
    out = Filings(as_of, list(periods))
    keys = [p.key for p in periods]
    nothing: list[date | None] = [None] * len(periods)
    for uscc in usccs:
        got = received.get(uscc)
        out.received[uscc] = nothing.copy() if got is None else [got.get(k) for k in keys]
    out.own = {u: d for u, d in (own or {}).items() if not d.is_default and u in out.received}
    return out


# --- from the archive -------------------------------------------------------------------------

def first_received(conns: Sequence[Connection], periods: Sequence[ReportingPeriod], as_of: date,
                   prefilter: str = "", params: Mapping[str, Any] | None = None) -> dict[str, dict[str, date | None]]:
    """uscc → period key → the first day a submission arrived after the period's end (by *as_of*), across
    *conns* (the earliest of them). *prefilter* limits the submissions (``s``) to an area."""
    day = "substr(s.received_at, 1, 10)"
    columns = ", ".join(f"MIN(CASE WHEN {day} > :end{i} THEN {day} END) AS p{i}" for i in range(len(periods)))
    sql = f"SELECT s.uscc, {columns} FROM submissions s WHERE {day} <= :as_of_day {prefilter} GROUP BY s.uscc"
    values = {"as_of_day": as_of.isoformat(), **(params or {}),
              **{f"end{i}": p.end.isoformat() for i, p in enumerate(periods)}}
    out: dict[str, dict[str, date | None]] = {}
    if not periods:
        return out
    for conn in conns:
        for row in conn.execute(sa.text(sql), values):
            got = out.setdefault(row[0], {p.key: None for p in periods})
            for i, p in enumerate(periods):
                if row[i + 1] is not None:
                    day_received = date.fromisoformat(str(row[i + 1]))
                    current = got[p.key]
                    got[p.key] = day_received if current is None else min(current, day_received)
    return out


# --- the summary's sheets ----------------------------------------------------------------------

def _rows(filings: Filings, listed: Iterable[Any]) -> Iterator[list[Any]]:
    identity = [k for k, _ in identity_columns()]
    as_of, status, count = filings.as_of, reporting.status, range(len(filings.periods))
    for r in listed:
        own = filings.own.get(r.uscc)
        cells: list[Any] = [None if v is None or v == "" else str(v) for v in (getattr(r, k) for k in identity)]
        cells.append((own.describe() or None) if own else None)
        days = filings.received.get(r.uscc)
        if days is None:
            cells += [None, None] * len(count)
        else:  # a day received as a real date: a number (Excel's day count) in the date format (see write_sheet)
            for i in count:
                day = days[i]
                cells.append(status(day, filings.due(r.uscc, i), as_of).value)
                cells.append(None if day is None else float((day - EXCEL_EPOCH).days))
        yield cells


def write_sheet(ws: Any, formats: dict[str, Any], filings: Filings, listed: Iterable[Any]) -> None:
    """报送情况 on *ws*: counts per period (rows 1…), then, below a blank row, enterprise × period (status, day
    received). *listed*: the enterprises (rows with the identity attributes), in the order shown (streamed)."""
    from dpsheets.county.sheet_xml import FastRows, Styles
    from dpsheets.workbook.print_setup import ID_WIDTH, landscape_wide

    head, cell, pct = formats["head"], formats["cell"], formats["pct"]
    for c, h in enumerate(COUNT_HEAD):
        ws.write_string(0, c, h, head)
    for r, p in enumerate(filings.periods, start=1):
        counts = filings.counts(p)
        total = sum(counts.values())
        due = reporting.DEFAULT.due(p)
        ws.write_string(r, 0, p.label, cell)
        ws.write_string(r, 1, due.isoformat() + ("（另有期限的企业按其期限）" if filings.own else ""), cell)
        ws.write_number(r, 2, total, cell)
        for c, s in enumerate(Status, start=3):
            ws.write_number(r, c, counts[s], cell)
        if total and filings.as_of > due:
            ws.write_number(r, 3 + len(Status), counts[Status.ON_TIME] / total, pct)
        else:
            ws.write_blank(r, 3 + len(Status), None, cell)
    top = len(filings.periods) + 2
    headers = [h for _, h in identity_columns()] + [OWN_DEADLINES]
    for p in filings.periods:
        headers += [p.label, f"{p.label}报送日期"]
    widths = [ID_WIDTH if "统一社会信用代码" in h else 28 if h == "企业名称" else 14 for h in headers]
    for c, h in enumerate(headers):
        ws.write_string(top, c, h, head)
        ws.set_column(c, c, max(widths[c], 16 if c < len(COUNT_HEAD) else 0))
    day = formats.get("day") or cell  # the only floats in these rows are days received
    styles = Styles(blank=cell, text=cell, floats=[day] * len(headers))
    count = FastRows(ws, top + 1, styles).write_all(_rows(filings, listed))
    if count:
        last = top + count
        first_status = len(identity_columns()) + 1
        for s, colour in ((Status.LATE, formats["orange"]), (Status.MISSING, formats["red"])):
            ws.conditional_format(top + 1, first_status, last, len(headers) - 1,
                                  {"type": "cell", "criteria": "==", "value": f'"{s.value}"', "format": colour})
    ws.autofilter(top, 0, top + max(count, 1), len(headers) - 1)
    ws.freeze_panes(top + 1, 2)
    landscape_wide(ws, widths, header_rows=(top, top), repeat_columns=2)


def write_hidden(ws: Any, filings: Filings) -> None:
    """The hidden sheet on *ws*, one row per enterprise: credit code, its own deadlines (JSON, blank: 16号令's),
    the day each period's statistics arrived (blank: none). Due dates follow from the deadlines, so they are
    not repeated."""
    from dpsheets.county.sheet_xml import FastRows

    ws.write_row(0, 0, ["uscc", "own", *(p.key for p in filings.periods)])

    def rows() -> Iterator[list[str | None]]:
        for uscc, days in filings.received.items():
            own = filings.own.get(uscc)
            yield [uscc, json.dumps([own.quarter_day, own.year_month, own.year_day]) if own else None,
                   *(None if day is None else day.isoformat() for day in days)]

    FastRows(ws, 1).write_all(rows())
    ws.hide()


def meta(filings: Filings) -> str:
    """The periods, for the summary's hidden meta sheet."""
    return ",".join(p.key for p in filings.periods)


def read(as_of: date, periods_text: str, rows: list[list[Any]],
         damaged: Callable[[str, str], Exception]) -> Filings:
    """The filings kept by :func:`write_hidden` (*rows* with the header); *damaged*(cell, what) makes the error."""
    from dpsheets.workbook.registers import column_letter

    try:
        periods = [ReportingPeriod.parse(k) for k in periods_text.split(",") if k.strip()]
    except ValueError as exc:
        raise damaged("B", f"（报送期间）的内容无法识别：{exc}") from exc
    out = Filings(as_of, periods)
    if rows and [str(h) for h in rows[0][2:2 + len(periods)]] != [p.key for p in periods]:
        raise damaged("A1", "的表头与汇总表记录的报送期间不一致")
    for i, row in enumerate(rows[1:], start=2):
        if not row or not row[0]:
            continue
        uscc = str(row[0])
        try:
            own = Deadlines(*json.loads(str(row[1]))) if len(row) > 1 and row[1] not in ("", None) else None
        except (ValueError, TypeError) as exc:
            raise damaged(f"B{i}", "（本企业报送期限）的内容无法识别") from exc
        days: list[date | None] = []
        for c in range(2, 2 + len(periods)):
            value = row[c] if c < len(row) else ""
            try:
                days.append(date.fromisoformat(str(value)[:10]) if value not in ("", None) else None)
            except ValueError as exc:
                raise damaged(f"{column_letter(c)}{i}", f"应为日期，却是“{value}”") from exc
        out.received[uscc] = days
        if own and not own.is_default:
            out.own[uscc] = own
    return out


def combine(parts: Sequence[Filings | None], winner: Mapping[str, int], as_of: date) -> Filings:
    """Several parts' filings as one: per enterprise and period the earliest day received in any part, due by
    the deadlines of the part whose row wins (*winner*: uscc → part index; others: the last part that lists it)."""
    periods = next((p.periods for p in parts if p is not None), reporting.periods(as_of))
    out = Filings(as_of, list(periods))
    keys = [p.key for p in periods]
    for i, part in enumerate(parts):
        if part is None:
            continue
        where = [part.index.get(k) for k in keys]
        for uscc, days in part.received.items():
            mine = winner.get(uscc, i) == i
            theirs = [None if j is None else days[j] for j in where]
            old = out.received.get(uscc)
            out.received[uscc] = theirs if old is None else \
                [min((d for d in pair if d), default=None) for pair in zip(theirs, old, strict=True)]
            if mine or old is None:  # the deadlines (own or 16号令's) of the winning part
                if uscc in part.own:
                    out.own[uscc] = part.own[uscc]
                else:
                    out.own.pop(uscc, None)
    return out
