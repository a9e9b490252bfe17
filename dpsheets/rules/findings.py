"""Findings: the entries are right, and they show something that needs action.

Overdue and due-soon hazards, open major hazards, hazards closed after their deadline,
no training or drill in the last 12 months, empty registers. All relative to *as_of*.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from dpsheets.config import Config
from dpsheets.rules import sanyou
from dpsheets.rules.hazard_state import MAJOR_LEVEL, hazard_state
from dpsheets.rules.problems import Problem, make
from dpsheets.workbook.model import Record, WorkbookData
from dpsheets.workbook.registers import HAZARD


def find(data: WorkbookData, as_of: date, config: Config) -> list[Problem]:
    problems: list[Problem] = []
    for record in data.records("hazard"):
        problems.extend(hazard_findings(record, as_of, config))
    problems.extend(ledger_findings(data, as_of))
    problems.extend(empty_registers(data))
    problems.extend(sanyou.find(data, as_of, config))
    return problems


def hazard_name(record: Record) -> str:
    """How a hazard is named in messages: its name, else its description (shortened), never a 序号."""
    description = record["description"]
    if not record["name"] and description:
        return description if len(description) <= 20 else description[:19] + "…"
    return record["name"] or record["number"] or f"第 {record.row} 行"


def hazard_findings(record: Record, as_of: date, config: Config) -> Iterator[Problem]:
    s = hazard_state(record, as_of, config.due_soon_days)
    name = hazard_name(record)
    params: dict[str, Any] = {"name": name, "as_of": as_of.isoformat()}
    deadline = record["deadline"].isoformat() if record["deadline"] else ""
    where: dict[str, Any] = {"sheet": record.sheet, "row": record.row, "column": HAZARD["deadline"].header,
             "cell": record.cell("deadline")}
    if s.overdue:
        yield make("hazard.overdue", **where, deadline=deadline, days=s.days, **params)
    elif s.due_soon:
        yield make("hazard.due-soon", **where, deadline=deadline, days=s.days, **params)
    if s.closed_late:
        yield make("hazard.closed-late", **where, deadline=deadline, completed=record["completed_on"].isoformat(), **params)
    if record["level"] == MAJOR_LEVEL and not s.closed:
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
