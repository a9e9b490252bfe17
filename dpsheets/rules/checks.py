"""Checks of the rules of DOMAIN §3–§6 on the records read from a workbook.

Every rule takes the as-of date as an argument; nothing here reads the clock. A check
returns problems (data errors and warnings); situations that need action are found by
:mod:`dpsheets.rules.findings`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from dpsheets.config import Config
from dpsheets.rules import sanyou
from dpsheets.rules.grading import ALLOWED, format_score, grade, method_of
from dpsheets.rules.problems import Problem, make
from dpsheets.workbook import normalize as nz
from dpsheets.workbook.layout import area_key
from dpsheets.workbook.model import Record, WorkbookData
from dpsheets.workbook.registers import (
    CLOSED_HAZARD_FIELDS,
    ENTERPRISE,
    HAZARD,
    MAJOR_HAZARD_FIELDS,
    REGISTERS,
    RISK,
    FieldType,
    Register,
)

# Dates that may lie after the as-of date.
FUTURE_ALLOWED = {("hazard", "deadline")}
# (earlier, later) field pairs within one hazard row.
HAZARD_DATE_ORDER = (("found_on", "deadline"), ("found_on", "completed_on"), ("completed_on", "accepted_on"),
                     ("found_on", "accepted_on"))
USUAL_TIERS = {"重大风险": ("公司",), "较大风险": ("公司", "车间"), "一般风险": ("公司", "车间", "班组"),
               "低风险": ("公司", "车间", "班组", "岗位")}
TIER_TEXT = {"重大风险": "公司", "较大风险": "公司或车间", "一般风险": "车间或班组", "低风险": "班组或岗位"}


# per register: (required fields, date fields that may not lie after the as-of date)
_FIELD_GROUPS = {
    r.key: (tuple(f for f in r.fields if f.required),
            tuple(f for f in r.fields if f.type is FieldType.DATE and (r.key, f.key) not in FUTURE_ALLOWED))
    for r in REGISTERS
}


def check_workbook(data: WorkbookData, as_of: date, config: Config) -> list[Problem]:
    problems: list[Problem] = []
    for register in REGISTERS:
        for record in data.records(register.key):
            problems.extend(check_fields(register, record, as_of))
    problems.extend(check_uscc(data))
    for record in data.records("risk"):
        problems.extend(check_risk(record, config))
    hazards = data.records("hazard")
    for record in hazards:
        problems.extend(check_hazard(record))
    problems.extend(check_hazard_numbers(hazards))
    problems.extend(check_references(data))
    problems.extend(check_risk_map(data))
    problems.extend(sanyou.check(data))
    return problems


def _p(code: str, record: Record, key: str, register: Register, **params: object) -> Problem:
    return make(code, sheet=record.sheet, row=record.row_of(key), column=register[key].header,
                cell=record.cell(key), **params)


def check_fields(register: Register, record: Record, as_of: date) -> Iterator[Problem]:
    """Required fields, and dates not after the as-of date."""
    required, dates = _FIELD_GROUPS[register.key]
    values, invalid, columns = record.values, record.invalid, record.columns
    for f in required:
        key = f.key
        if values[key] is None and key not in invalid and key in columns \
                and not _required_exempt(register, key, record):
            yield _p("field.required", record, key, register)
    for f in dates:
        value = values[f.key]
        if value is not None and value > as_of:
            yield _p("date.future", record, f.key, register, value=value.isoformat(), as_of=as_of.isoformat())


def _required_exempt(register: Register, key: str, record: Record) -> bool:
    # A risk's level may be left blank when its factors give it.
    return register is RISK and key == "level" and record.columns.get(key) is not None and method_of(record) in ALLOWED


def check_uscc(data: WorkbookData) -> Iterator[Problem]:
    ent = data.enterprise
    code = ent["uscc"] if ent else None
    if ent is None or not code:
        return
    reason = nz.uscc_problem(code)
    if reason:
        yield _p("field.uscc", ent, "uscc", ENTERPRISE, value=code, reason=reason)
    elif not nz.uscc_in_henan(code):
        yield _p("field.uscc-province", ent, "uscc", ENTERPRISE, value=code)


def check_risk(record: Record, config: Config) -> Iterator[Problem]:
    method = method_of(record)
    if method in ALLOWED:
        yield from _check_factors(record, method)
    g = grade(record, config)
    if g is None:
        return
    stated = record["level"]
    if stated and stated != g.level:
        yield _p("risk.level-mismatch", record, "level", RISK, method=g.method, score=format_score(g.score),
                 computed=g.level, value=stated)
    if record["score"] is not None and abs(record["score"] - g.score) > 1e-6:
        yield _p("risk.score-mismatch", record, "score", RISK, value=format_score(record["score"]),
                 score=format_score(g.score))
    tier = record["tier"]
    if tier and tier not in USUAL_TIERS[g.level]:
        yield _p("risk.tier", record, "tier", RISK, level=g.level, expected=TIER_TEXT[g.level], value=tier)


def _check_factors(record: Record, method: str) -> Iterator[Problem]:
    factors = ALLOWED[method]
    for key, allowed in factors.items():
        value = record[key]
        if not record.filled(key):
            yield _p("risk.factors-missing", record, key, RISK, method=method, factors="、".join(k.upper() for k in factors))
        elif value is not None and value not in allowed:
            yield _p("risk.factor", record, key, RISK, method=method, value=format_score(value),
                     allowed="、".join(format_score(a) for a in allowed))


def check_hazard(record: Record) -> Iterator[Problem]:
    for earlier, later in HAZARD_DATE_ORDER:
        a, b = record[earlier], record[later]
        if a and b and b < a:
            yield _p("date.order", record, later, HAZARD, value=b.isoformat(), other=HAZARD[earlier].header,
                     other_value=a.isoformat())
    status = record["status"]
    if status == "已销号":
        for key in CLOSED_HAZARD_FIELDS:
            if not record.filled(key) and key in record.columns:  # a ledger without the column: not per row
                yield _p("hazard.closed-incomplete", record, key, HAZARD)
        if record["acceptance"] == "不通过":
            yield _p("hazard.closed-not-passed", record, "acceptance", HAZARD)
    elif status == "待验收" and not record.filled("completed_on"):
        yield _p("hazard.completion-missing", record, "completed_on", HAZARD, status=status)
    if record["level"] == "重大隐患":
        for key in MAJOR_HAZARD_FIELDS:
            if not record.filled(key):
                yield _p("hazard.major-incomplete", record, key, HAZARD)


def check_hazard_numbers(hazards: list[Record]) -> Iterator[Problem]:
    first_row: dict[str, int] = {}
    for record in hazards:
        number = record["number"]
        if not number:
            continue
        key = nz.nfkc(number).strip()
        if key in first_row:
            yield _p("hazard.duplicate-number", record, "number", HAZARD, value=number, other_row=first_row[key])
        else:
            first_row[key] = record.row


def check_references(data: WorkbookData) -> Iterator[Problem]:
    """Links between registers: hazard → risk, risk 失控 → hazard, employee → post, quiz → employee."""
    risks = data.sheets["risk"]
    risk_names = {_fold(r["name"]) for r in risks.records if r["name"]}
    hazards = data.records("hazard")
    linked = {_fold(h["risk"]) for h in hazards if h["risk"]}
    if risks.present:
        for h in hazards:
            if h["risk"] and _fold(h["risk"]) not in risk_names:
                yield _p("hazard.unknown-risk", h, "risk", HAZARD, value=h["risk"])
    if data.sheets["hazard"].present:
        for r in risks.records:
            if r["state"] == "失控" and r["name"] and _fold(r["name"]) not in linked:
                yield _p("risk.uncontrolled-no-hazard", r, "state", RISK, name=r["name"])
    posts = data.sheets["post"]
    if posts.present:
        post_names = {_fold(p["post"]) for p in posts.records if p["post"]}
        employee = data.sheets["employee"].register
        for e in data.records("employee"):
            if e["post"] and _fold(e["post"]) not in post_names:
                yield _p("employee.unknown-post", e, "post", employee, value=e["post"])
    employees = data.sheets["employee"]
    if employees.present and employees.records:
        names = {_fold(e["name"]) for e in employees.records if e["name"]}
        quiz = data.sheets["quiz"].register
        for q in data.records("quiz"):
            if q["name"] and _fold(q["name"]) not in names:
                yield _p("quiz.unknown-employee", q, "name", quiz, value=q["name"])


def check_risk_map(data: WorkbookData) -> Iterator[Problem]:
    """With a plant sketched on the 风险分布图 sheet: every risk's 所在位置 is an area on it, every area has risks."""
    layout = data.layout
    if layout is None or not layout.areas:
        return
    risks = data.records("risk")
    names = "、".join(a.name for a in layout.areas)
    for r in risks:
        if r["location"] and layout.area(r["location"]) is None:
            yield _p("map.unknown-location", r, "location", RISK, value=r["location"], areas=names)
    used = {area_key(r["location"]) for r in risks if r["location"]}
    for area in layout.areas:
        if area_key(area.name) not in used:
            yield make("map.area-without-risk", sheet=layout.sheet, row=area.row, column="区域", cell=area.cell,
                       value=area.name)


def _fold(text: str) -> str:
    return nz.header_key(text)
