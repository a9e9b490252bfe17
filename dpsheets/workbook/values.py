"""Values as real registers write them, read as the standard means them — and said so.

The reader turns 橙色 into 较大风险 (declared as ``value_aliases`` in the registers); this module
finishes what needs the whole row: deadlines written as 立即 or 3日内 (counted from the day of
discovery), the state of a hazard whose ledger has no state column but shows its closure (an
acceptance or recheck date, completion within the deadline), and the warnings that say what was
read — one per distinct spelling, not one per cell. Where a spelling is ambiguous the reading
chosen is the one that does not invent an overdue hazard.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from dpsheets.rules.problems import Problem, make
from dpsheets.workbook import normalize as nz
from dpsheets.workbook.model import Record, Rewrite
from dpsheets.workbook.registers import ASSUMED_CLOSED, Field, Register

CLOSED = "已销号"


def resolve_relative(register: Register, sheet: str, first_row: int, pending: list[tuple[int, Field, Any]],
                     values: dict[int, dict[str, Any]], invalid: dict[int, dict[str, Any]], columns: dict[str, str],
                     rewrites: list[Rewrite]) -> None:
    """3日内 → the discovery date + 3 days; without a discovery date the deadline stays unknown."""
    for i, f, original in pending:
        days = nz.parse_relative_days(original)
        base = values[i].get(f.relative_to)
        cell = f"{columns[f.key]}{first_row + i}" if f.key in columns else None
        if isinstance(base, date) and days is not None:
            values[i][f.key] = base + timedelta(days=days)
            rewrites.append(Rewrite(sheet, first_row + i, cell, f.key, f.header, nz.as_text(original),
                                    values[i][f.key].isoformat(), "relative",
                                    f"{register[f.relative_to].header} {base.isoformat()} 起 {days} 日"))
        else:
            invalid.setdefault(i, {})[f.key] = original  # filled in, but not a date: never overdue
            rewrites.append(Rewrite(sheet, first_row + i, cell, f.key, f.header, nz.as_text(original), "", "relative-unknown"))


def infer_hazard_status(records: Iterable[Record], rewrites: list[Rewrite]) -> None:
    """A hazard with no state written that the row shows closed is read as 已销号 (never overdue, never an
    open major hazard); 已整改 without an acceptance says that it was read as closed."""
    assumed = {(r.sheet, r.row) for r in rewrites if r.key == "status" and r.original in ASSUMED_CLOSED}
    for record in records:
        v = record.values
        if assumed and (record.sheet, record.row) in assumed and not (v["accepted_on"] or v["accepted_by"]):
            for i, r in enumerate(rewrites):
                if r.key == "status" and r.sheet == record.sheet and r.row == record.row:
                    rewrites[i] = Rewrite(r.sheet, r.row, r.cell, r.key, r.column, r.original, r.new, r.kind,
                                          "，没有验收记录：视为已整改销号、不计逾期，请补填验收人和验收日期")
        if v["status"] is not None or "status" in record.invalid:
            continue
        evidence = _closure_evidence(v)
        if evidence:
            v["status"] = CLOSED
            rewrites.append(Rewrite(record.sheet, record.row, record.cell("status") or record.cell("accepted_on"),
                                    "status", "治理状态", "", CLOSED, "inferred", evidence))


def _closure_evidence(v: dict[str, Any]) -> str:
    if v["acceptance"] == "不通过":  # a failed recheck sends the hazard back to rectification
        return ""
    if v["accepted_on"]:
        return f"已有验收（复查）日期 {v['accepted_on'].isoformat()}"
    done, deadline = v["completed_on"], v["deadline"]
    if done and deadline and done <= deadline:
        return f"完成日期 {done.isoformat()} 在治理期限 {deadline.isoformat()} 之内"
    return ""


_CODES = {"value": "value.normalized", "relative": "deadline.relative", "relative-unknown": "deadline.relative-unknown",
          "inferred": "hazard.status-inferred"}


def rewrite_problems(rewrites: list[Rewrite]) -> list[Problem]:
    """One warning per distinct spelling (value, column) at its first cell, with the count."""
    groups: dict[tuple[str, str, str, str, str, str], list[Rewrite]] = {}
    for r in rewrites:
        if r.kind not in _CODES:
            continue
        # the note is part of what is said: 已整改 with an acceptance and 已整改 without one are two warnings
        key = (r.sheet, r.kind, r.column, r.original, r.new if r.kind == "value" else "", r.note if r.kind == "value" else "")
        groups.setdefault(key, []).append(r)
    out = []
    for (sheet, kind, column, original, _, _), items in groups.items():
        first = items[0]
        more = "，首处见此格" if len(items) > 1 else ""
        params: dict[str, Any] = {"value": original, "read": first.new, "count": len(items), "more": more}
        if kind == "value":
            params["note"] = first.note
        if kind == "inferred":
            params["evidence"] = first.note
        out.append(make(_CODES[kind], sheet=sheet, row=first.row, column=column, cell=first.cell, **params))
    return out
