"""Findings: the entries are right, and they show something that needs action.

Overdue and due-soon hazards, open major hazards, hazards closed after their deadline,
no training or drill in the last 12 months, empty registers. All relative to *as_of*.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from dpsheets.config import Config
from dpsheets.rules.problems import Problem, make
from dpsheets.workbook.model import Record, WorkbookData
from dpsheets.workbook.registers import HAZARD

CLOSED = "已销号"


@dataclass(frozen=True)
class HazardState:
    """Where a hazard stands on the as-of date (DOMAIN §5)."""

    closed: bool
    overdue: bool
    due_soon: bool
    closed_late: bool
    days: int  # days overdue (overdue) or days left (due soon)


def hazard_state(record: Record, as_of: date, due_soon_days: int = 3) -> HazardState:
    deadline: date | None = record["deadline"]
    completed: date | None = record["completed_on"]
    closed = record["status"] == CLOSED
    if deadline is None:
        return HazardState(closed, False, False, False, 0)
    done_in_time = completed is not None and completed <= deadline
    overdue = not closed and as_of > deadline and not done_in_time
    left = (deadline - as_of).days
    due_soon = not closed and not overdue and 0 <= left <= due_soon_days and not done_in_time
    closed_late = closed and completed is not None and completed > deadline
    days = (as_of - deadline).days if overdue else left
    return HazardState(closed, overdue, due_soon, closed_late, days)


def find(data: WorkbookData, as_of: date, config: Config) -> list[Problem]:
    problems: list[Problem] = []
    for record in data.records("hazard"):
        problems.extend(hazard_findings(record, as_of, config))
    problems.extend(ledger_findings(data, as_of))
    problems.extend(empty_registers(data))
    return problems


def hazard_findings(record: Record, as_of: date, config: Config) -> Iterator[Problem]:
    s = hazard_state(record, as_of, config.due_soon_days)
    name = record["name"] or record["number"] or f"第 {record.row} 行"
    params = {"name": name, "as_of": as_of.isoformat()}
    deadline = record["deadline"].isoformat() if record["deadline"] else ""
    where = {"sheet": record.sheet, "row": record.row, "column": HAZARD["deadline"].header,
             "cell": record.cell("deadline")}
    if s.overdue:
        yield make("hazard.overdue", **where, deadline=deadline, days=s.days, **params)
    elif s.due_soon:
        yield make("hazard.due-soon", **where, deadline=deadline, days=s.days, **params)
    if s.closed_late:
        yield make("hazard.closed-late", **where, deadline=deadline, completed=record["completed_on"].isoformat(), **params)
    if record["level"] == "重大隐患" and not s.closed:
        yield make("hazard.major-open", sheet=record.sheet, row=record.row, column=HAZARD["level"].header,
                   cell=record.cell("level"), **params)


def within_months(day: date | None, as_of: date, months: int = 12) -> bool:
    return day is not None and as_of - timedelta(days=round(months * 365.25 / 12)) < day <= as_of


def ledger_findings(data: WorkbookData, as_of: date) -> Iterator[Problem]:
    for key, code in (("training", "training.none-12m"), ("drill", "drill.none-12m")):
        sheet = data.sheets[key]
        if sheet.present and not any(within_months(r["date"], as_of) for r in sheet.records):
            yield make(code, sheet=sheet.sheet, as_of=as_of.isoformat())


def empty_registers(data: WorkbookData) -> Iterator[Problem]:
    for key in ("risk", "hazard", "post", "employee"):
        sheet = data.sheets[key]
        if sheet.present and sheet.header_row and not sheet.records:
            yield make("register.empty", sheet=sheet.sheet)
