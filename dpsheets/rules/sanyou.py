"""一题 and 三有五化 (guidance 二(三), 二(五)): the checks and findings of the extra sheets.

- every employee confirms the five answers of their post (一题): one without a confirmation
  in 12 months is a finding;
- 隐患排查计划: what, where, how often, who; a plan with no inspection within its frequency
  (by the hazard register's 发现日期 at that place, or the plan's own 最近排查日期) is a finding;
- 奖惩考核 posted on the notice board: none in 12 months is a finding;
- 岗位操作规程: every post has its procedure's content (printed on the card);
- 车间班组责任清单: every workshop and team of the post register has its own list (从车间到班组);
- 警示标志清单: every area with a 重大/较大 risk has signs, and none is damaged or missing.

:func:`indicators` gives the same facts as counts for the county roll-up, computed by the
same functions, so the check and the roll-up cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from dpsheets.config import Config
from dpsheets.rules.grading import risk_level
from dpsheets.rules.problems import Problem, make
from dpsheets.workbook import normalize as nz
from dpsheets.workbook.model import Record, WorkbookData
from dpsheets.workbook.registers import (
    EMPLOYEE,
    FREQUENCIES,
    INSPECTION_PLAN,
    POST,
    PROCEDURE,
    SIGN,
    UNIT_DUTY,
    Register,
)

WHOLE_SITE = {nz.header_key(t) for t in ("全厂", "全公司", "厂区全部", "全部区域", "各车间", "全厂区")}
SIGN_LEVELS = ("重大风险", "较大风险")  # areas with these risks must carry warning signs
BAD_SIGN_STATES = ("损坏", "缺失")


def fold(text: Any) -> str:
    return nz.header_key(text) if text else ""


def _where(record: Record, key: str, register: Register) -> dict[str, Any]:
    return {"sheet": record.sheet, "row": record.row_of(key), "column": register[key].header, "cell": record.cell(key)}


def within_12_months(day: date | None, as_of: date) -> bool:
    from dpsheets.rules.findings import within_months

    return within_months(day, as_of)


# --- 一题: confirmations -----------------------------------------------------------------------

def confirmed(data: WorkbookData, as_of: date) -> set[tuple[str, str]]:
    """(name, post) pairs, folded, with a confirmation in the 12 months up to *as_of*."""
    return {(fold(q["name"]), fold(q["post"])) for q in data.records("quiz")
            if q["name"] and within_12_months(q["date"], as_of)}


def unconfirmed_employees(data: WorkbookData, as_of: date) -> list[Record]:
    """Employees with no confirmation of their post in 12 months (none when the quiz sheet is absent)."""
    if not data.sheets.get("quiz") or not data.sheets["quiz"].present:
        return []
    done = confirmed(data, as_of)
    return [e for e in data.records("employee") if e["name"] and (fold(e["name"]), fold(e["post"])) not in done]


def unconfirmed_posts(data: WorkbookData, as_of: date) -> list[Record]:
    """Posts that no worker confirmed in 12 months."""
    if not data.sheets.get("quiz") or not data.sheets["quiz"].present:
        return []
    posts_done = {post for _, post in confirmed(data, as_of)}
    return [p for p in data.records("post") if p["post"] and fold(p["post"]) not in posts_done]


# --- 隐患排查计划 ------------------------------------------------------------------------------

def _same_place(a: str, b: str) -> bool:
    return bool(a and b) and (a in b or b in a)


def last_inspection(plan: Record, hazards: list[Record], as_of: date) -> date | None:
    """The plan's last inspection on or before *as_of*: its own 最近排查日期 or a matching hazard's 发现日期."""
    where, kind = fold(plan["location"]), plan["check_type"]
    days = [plan["last_done"]] if plan["last_done"] and plan["last_done"] <= as_of else []
    for h in hazards:
        found = h["found_on"]
        if found is None or found > as_of or (kind and h["check_type"] and h["check_type"] != kind):
            continue
        if where in WHOLE_SITE or _same_place(where, fold(h["location"])):
            days.append(found)
    return max(days, default=None)


def plan_overdue(plan: Record, hazards: list[Record], as_of: date) -> tuple[bool, date | None]:
    days = FREQUENCIES.get(plan["frequency"] or "")
    if days is None:
        return False, None
    last = last_inspection(plan, hazards, as_of)
    return last is None or (as_of - last).days > days, last


def overdue_plans(data: WorkbookData, as_of: date) -> list[tuple[Record, date | None]]:
    hazards = data.records("hazard")
    out = []
    for plan in data.records("inspection_plan"):
        late, last = plan_overdue(plan, hazards, as_of)
        if late:
            out.append((plan, last))
    return out


# --- 操作规程, 车间班组责任清单, 警示标志 ------------------------------------------------------------

def procedures_by_post(data: WorkbookData) -> dict[str, Record]:
    return {fold(r["post"]): r for r in data.records("procedure") if r["post"] and (r["steps"] or r["title"])}


def posts_without_procedure(data: WorkbookData) -> list[Record]:
    sheet = data.sheets.get("procedure")
    if sheet is None or not sheet.present:
        return []
    have = {k for k, r in procedures_by_post(data).items() if r["steps"]}
    return [p for p in data.records("post") if p["post"] and fold(p["post"]) not in have]


def missing_unit_duties(data: WorkbookData) -> list[tuple[str, str]]:
    """(层级, name) of each workshop and team of the post register without a line in 车间班组责任清单."""
    sheet = data.sheets.get("unit_duty")
    if sheet is None or not sheet.present:
        return []
    listed = {(r["tier"], fold(r["workshop"]), fold(r["team"]) if r["tier"] == "班组" else "")
              for r in data.records("unit_duty")}
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for p in data.records("post"):
        ws, team = p["workshop"], p["team"]
        units = [("车间", fold(ws), "", ws)] if ws else []
        if ws and team:
            units.append(("班组", fold(ws), fold(team), f"{ws}{team}"))
        for tier, w, t, label in units:
            if (tier, w, t) not in listed and (tier, w, t) not in seen:
                seen.add((tier, w, t))
                out.append((tier, label))
    return out


def areas_without_signs(data: WorkbookData, config: Config) -> list[tuple[str, str]]:
    """(area, highest level) of each area with a 重大/较大 risk and no warning sign."""
    sheet = data.sheets.get("sign")
    if sheet is None or not sheet.present:
        return []
    signed = [fold(s["location"]) for s in data.records("sign") if s["location"] and s["state"] not in BAD_SIGN_STATES]
    worst: dict[str, tuple[str, str]] = {}
    for r in data.records("risk"):
        level = risk_level(r, config)
        if level in SIGN_LEVELS and r["location"]:
            key = fold(r["location"])
            if key not in worst or SIGN_LEVELS.index(level) < SIGN_LEVELS.index(worst[key][1]):
                worst[key] = (r["location"], level)
    return [(loc, level) for key, (loc, level) in worst.items() if not any(_same_place(key, s) for s in signed)]


def bad_signs(data: WorkbookData) -> list[Record]:
    return [s for s in data.records("sign") if s["state"] in BAD_SIGN_STATES]


def rewards_12m(data: WorkbookData, as_of: date) -> list[Record]:
    return [r for r in data.records("reward") if within_12_months(r["date"], as_of)]


# --- problems ----------------------------------------------------------------------------------

def check(data: WorkbookData) -> Iterator[Problem]:
    """Data errors: a procedure for a post the post register does not have."""
    posts = data.sheets.get("post")
    if posts is None or not posts.present:
        return
    names = {fold(p["post"]) for p in posts.records if p["post"]}
    for r in data.records("procedure"):
        if r["post"] and fold(r["post"]) not in names:
            yield make("procedure.unknown-post", **_where(r, "post", PROCEDURE), value=r["post"])


def find(data: WorkbookData, as_of: date, config: Config) -> Iterator[Problem]:
    day = as_of.isoformat()
    for e in unconfirmed_employees(data, as_of):
        yield make("quiz.unconfirmed-12m", **_where(e, "name", EMPLOYEE), name=e["name"], post=e["post"] or "", as_of=day)
    for plan, last in overdue_plans(data, as_of):
        yield make("plan.no-inspection", **_where(plan, "frequency", INSPECTION_PLAN), content=plan["content"] or "",
                   location=plan["location"] or "", frequency=plan["frequency"], as_of=day,
                   last=last.isoformat() if last else "无记录")
    rewards = data.sheets.get("reward")
    if rewards is not None and rewards.present and not rewards_12m(data, as_of):
        yield make("reward.none-12m", sheet=rewards.sheet, as_of=day)
    for p in posts_without_procedure(data):
        yield make("procedure.missing", **_where(p, "post", POST), post=p["post"])
    unit_sheet = data.sheets.get("unit_duty")
    for tier, unit in missing_unit_duties(data):
        yield make("unit-duty.missing", sheet=unit_sheet.sheet if unit_sheet else UNIT_DUTY.sheet, tier=tier, unit=unit)
    sign_sheet = data.sheets.get("sign")
    for location, level in areas_without_signs(data, config):
        yield make("sign.missing-area", sheet=sign_sheet.sheet if sign_sheet else SIGN.sheet, location=location, level=level)
    for s in bad_signs(data):
        yield make("sign.damaged", **_where(s, "state", SIGN), location=s["location"] or "", name=s["name"] or "",
                   state=s["state"])


# --- counts for the county roll-up ------------------------------------------------------------

# (key, Chinese header) of the counts below, in the order the summary shows them.
INDICATORS: tuple[tuple[str, str], ...] = (
    ("employees_unconfirmed", "近12个月未答题确认员工"), ("posts_unconfirmed", "近12个月无人答题确认岗位"),
    ("inspection_plans", "排查计划项"), ("plans_not_kept", "未按频次排查计划项"), ("rewards_12m", "近12个月奖惩考核"),
    ("procedures", "有操作规程的岗位"), ("posts_without_procedure", "无操作规程岗位"),
    ("unit_duties", "车间班组责任清单"), ("unit_duties_missing", "缺少责任清单的车间班组"),
    ("signs", "警示标志"), ("areas_without_signs", "无警示标志的风险区域"), ("signs_bad", "损坏缺失的警示标志"),
)


def indicators(data: WorkbookData, as_of: date, config: Config) -> dict[str, int]:
    return {
        "employees_unconfirmed": len(unconfirmed_employees(data, as_of)),
        "posts_unconfirmed": len(unconfirmed_posts(data, as_of)),
        "inspection_plans": len(data.records("inspection_plan")),
        "plans_not_kept": len(overdue_plans(data, as_of)),
        "rewards_12m": len(rewards_12m(data, as_of)),
        "procedures": len({k for k, r in procedures_by_post(data).items() if r["steps"]}),
        "posts_without_procedure": len(posts_without_procedure(data)),
        "unit_duties": len(data.records("unit_duty")),
        "unit_duties_missing": len(missing_unit_duties(data)),
        "signs": sum(int(s["count"] or 1) for s in data.records("sign")),
        "areas_without_signs": len(areas_without_signs(data, config)),
        "signs_bad": len(bad_signs(data)),
    }
