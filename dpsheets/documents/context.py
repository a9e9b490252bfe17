"""The data each Word template is filled with, built from the records of one workbook.

Text is cleaned for Word (characters XML cannot hold and docxtpl's control characters
removed; line breaks kept); an empty optional field prints as a blank line to fill by
hand, never as "None". Images (QR codes, the risk map) are added by the renderer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any

from dpsheets.config import Config
from dpsheets.documents import riskmap
from dpsheets.documents.riskmap import UNRATED, UNRATED_COLOUR, RiskMap
from dpsheets.rules import sanyou
from dpsheets.rules.grading import risk_level
from dpsheets.rules.hazard_state import hazard_state
from dpsheets.rules.stats import HazardStats, Period, hazard_stats
from dpsheets.workbook.model import Record, WorkbookData
from dpsheets.workbook.registers import RISK_COLOUR_NAMES, RISK_COLOURS

BLANK = "＿＿＿＿＿＿"
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")  # \t \a \f would become Word layout


def text(value: Any, blank: str = BLANK) -> str:
    """A field as printable text: dates as 2026年11月28日, tuples joined with 、, blanks as a fill-in line."""
    if value is None or value == "":
        return blank
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, (tuple, list)):
        return "、".join(map(str, value))
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return _NOT_IN_XML.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n"))


def record_text(record: Record, keys: tuple[str, ...]) -> dict[str, str]:
    return {k: text(record[k]) for k in keys}


def enterprise_context(data: WorkbookData) -> dict[str, str]:
    ent = data.enterprise
    keys = ("name", "uscc", "county", "township", "industry", "address", "principal", "phone", "safety_officer", "filled_by")
    return {k: text(ent[k] if ent else None) for k in keys}


def level_display(level: str | None) -> str:
    return f"{level}（{RISK_COLOUR_NAMES[level]}）" if level in RISK_COLOUR_NAMES else UNRATED


def _post_levels(data: WorkbookData, config: Config) -> dict[str, str]:
    """Highest risk level per workshop location, for posts whose level is not stated."""
    order = {lvl: i for i, lvl in enumerate(RISK_COLOURS)}
    best: dict[str, str] = {}
    for r in data.records("risk"):
        level = risk_level(r, config)
        loc = r["location"]
        if level and loc and (loc not in best or order[level] < order[best[loc]]):
            best[loc] = level
    return best


def post_level(post: Record, levels_by_location: dict[str, str]) -> str | None:
    return post["level"] or levels_by_location.get(post["workshop"] or "")


POST_KEYS = ("workshop", "team", "post", "duties", "hazards", "triggers", "controls", "emergency", "procedure")


def procedure_text(post: Record, procedures: dict[str, Record]) -> str:
    """The post's 操作规程 as the card prints it: name, steps and prohibitions, else the title in the post register."""
    proc = procedures.get(sanyou.fold(post["post"]))
    if proc is None or not proc["steps"]:
        return text(proc["title"] if proc is not None and proc["title"] else post["procedure"])
    lines = [f"《{text(proc['title'], '').strip('《》')}》" if proc["title"] else "", text(proc["steps"])]
    if proc["prohibitions"]:
        lines.append(f"禁止事项：{text(proc['prohibitions'])}")
    return "\n".join(line for line in lines if line)


def cards(data: WorkbookData, config: Config) -> list[dict[str, Any]]:
    levels = _post_levels(data, config)
    procedures = sanyou.procedures_by_post(data)
    out = []
    for p in data.records("post"):
        level = post_level(p, levels)
        item: dict[str, Any] = record_text(p, POST_KEYS)
        item["procedure"] = procedure_text(p, procedures)
        phones = "火警 119　急救 120" + (f"\n内部 {text(p['emergency_phone'])}" if p["emergency_phone"] else "")
        item.update(level=level_display(level), colour=RISK_COLOURS.get(level or "", UNRATED_COLOUR), phones=phones,
                    dark=level in ("重大风险", "低风险"), source=p)
        out.append(item)
    return out


def unit_lists(data: WorkbookData) -> list[dict[str, str]]:
    """车间班组责任清单 (从车间到班组), printed before the lists of the employees: workshops first, then their teams."""
    rows = sorted(data.records("unit_duty"), key=lambda r: (r["workshop"] or "", r["tier"] != "车间", r["team"] or "", r.row))
    return [dict(record_text(r, ("tier", "workshop", "head", "duties", "risks", "phone")), team=text(r["team"], ""),
                 unit=text(r["workshop"], "") + (text(r["team"], "") if r["tier"] == "班组" else ""))
            for r in rows]


def duty_lists(data: WorkbookData, config: Config) -> tuple[list[dict[str, Any]], list[str]]:
    """One 岗位安全责任清单 per employee whose post is in the post register; (sheets, Chinese data errors).

    An employee whose post is not in the register gets no blank sheet to sign: the error is
    reported instead (the check names the cell as employee.unknown-post)."""
    levels = _post_levels(data, config)
    posts = {(p["post"] or "").strip(): p for p in data.records("post")}
    out, errors = [], []
    for e in data.records("employee"):
        post = posts.get((e["post"] or "").strip())
        if post is None:
            where = f"{e.sheet}!{e.cell('post') or e.row}"
            errors.append(f"{e.sheet}中“{text(e['name'])}”的岗位“{text(e['post'])}”不在岗位安全责任清单中（{where}），"
                          "未生成其岗位安全责任清单。请改正岗位或在清单中增加该岗位后重新生成。")
            continue
        item = {"name": text(e["name"]), "workshop": text(e["workshop"]), "team": text(e["team"], ""),
                "post": text(e["post"]), "source": post}
        item.update(record_text(post, ("duties", "hazards", "triggers", "controls", "emergency")),
                    level=level_display(post_level(post, levels)))
        out.append(item)
    return out, errors


QR_FIELDS = (("企业：", "企业名称"), ("统一社会信用代码：", "统一社会信用代码"), ("所属县区：", "所属县区"), ("岗位：", "岗位名称"))


def qr_caption(payload: str, page: str) -> str:
    """What the QR code holds, said truthfully: a web page (when it is a link) or the text fields it shows."""
    if payload.startswith(("http://", "https://")):
        return f"扫码打开{page}网页"
    shown = [label for prefix, label in QR_FIELDS if any(line.startswith(prefix) for line in payload.splitlines())]
    return "扫码显示：" + "、".join(shown) if shown else "扫码显示文字信息"


HAZARD_KEYS = ("number", "name", "location", "description", "measures", "owner", "unit", "cause", "severity", "plan",
               "suspended", "supervised", "supervisor", "goal")


def _hazard_item(h: Record) -> dict[str, str]:
    item = record_text(h, HAZARD_KEYS)
    item.update(deadline=text(h["deadline"]), found_on=text(h["found_on"]), reported_on=text(h["reported_on"]),
                funds=f"{text(h['funds'])} 元" if h["funds"] is not None else BLANK)
    return item


def document_number(kind: str, as_of: date, i: int, prefix: str = "") -> str:
    """A document number in the GB/T 9704 form: 代字〔年份〕序号号, e.g. 整改〔2026〕3号 (no 第, no leading zeros)."""
    return f"{prefix}{kind}〔{as_of.year}〕{i}号"


def official(data: WorkbookData, config: Config) -> dict[str, str]:
    """发文单位 (落款), 主送机关, contact and phone: dpsheets.toml's [official], else the workbook's 企业信息."""
    form = config.official
    ent = data.enterprise
    county = text(ent["county"] if ent else None, "")
    return {"issuer": form.issuer or text(ent["name"] if ent else None),
            "addressee": form.addressee or (f"{county}应急管理局" if county else f"{BLANK}应急管理局"),
            "contact": form.contact or text(ent["safety_officer"] if ent else None),
            "phone": form.phone or text(ent["phone"] if ent else None)}


def level_mark(level: str | None) -> dict[str, Any]:
    """The 隐患等级 cell: 重大隐患 marked (★, red, bold), 一般隐患 plain."""
    major = level == "重大隐患"
    return {"level": f"★{level}" if major else text(level), "major": major}


def notices(data: WorkbookData, as_of: date, config: Config | None = None) -> list[dict[str, Any]]:
    """One 隐患整改通知书 per responsible unit, listing its hazards still to be fixed and not yet overdue.

    Hazards already fixed (待验收, or with a 完成日期) need acceptance, not a notice; overdue ones
    go to the 逾期催办通知."""
    config = config or Config()
    by_unit: dict[str, list[Record]] = defaultdict(list)
    for h in data.records("hazard"):
        state = hazard_state(h, as_of, config.due_soon_days)
        if h["status"] in ("待整改", "整改中", None) and h["completed_on"] is None and not state.closed \
                and not state.overdue:
            by_unit[h["unit"] or h["location"] or "有关单位"].append(h)
    out = []
    for i, (unit, hazards) in enumerate(sorted(by_unit.items()), start=1):
        items = []
        for no, h in enumerate(sorted(hazards, key=lambda h: (h["level"] != "重大隐患", h["deadline"] or date.max, h.row)),
                               start=1):
            items.append(dict(_hazard_item(h), no=str(no), short_deadline=short_date(h["deadline"]), **level_mark(h["level"])))
        out.append({"number": document_number("整改", as_of, i, config.official.number_prefix), "unit": text(unit),
                    "hazards": items, "majors": sum(1 for h in hazards if h["level"] == "重大隐患")})
    return out


def short_date(value: Any) -> str:
    """A date for a narrow table column: 2026-11-16 (fits one line where 2026年11月16日 would wrap)."""
    return value.isoformat() if isinstance(value, date) else text(value)


def reminders(data: WorkbookData, as_of: date, config: Config) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for h in data.records("hazard"):
        state = hazard_state(h, as_of, config.due_soon_days)
        if state.overdue:
            item = _hazard_item(h)
            item.update(hazard_number=item.pop("number"), days=str(state.days),
                        unit=text(h["unit"] or h["location"], "有关单位"),
                        number=document_number("催办", as_of, len(out) + 1, config.official.number_prefix),
                        **level_mark(h["level"]))
            out.append(item)
    return out


def majors(data: WorkbookData) -> list[dict[str, Any]]:
    return [_hazard_item(h) for h in data.records("hazard") if h["level"] == "重大隐患"]


def board(data: WorkbookData, config: Config) -> tuple[RiskMap, list[dict[str, str]]]:
    risks = data.records("risk")
    risk_map = riskmap.build([(r["location"], risk_level(r, config)) for r in risks], data.layout)
    key = [dict({k: text(r[k], "") for k in ("name", "location", "controls", "unit", "owner", "phone")}, level=level_display(lvl),
                short_level=lvl, colour=RISK_COLOURS[lvl])
           for r in risks if (lvl := risk_level(r, config)) in ("重大风险", "较大风险")]
    key.sort(key=lambda k: (k["short_level"] != "重大风险", k["location"]))
    return risk_map, key


def map_notes(risk_map: RiskMap) -> list[str]:
    """Lines under the map: plant-wide risks (not drawn as zones) and risks whose place is not on the sketch."""
    notes = [f"{loc}（全厂范围，未画入图中）：{riskmap.counts_text(counts)}" for loc, counts in sorted(risk_map.plant_wide.items())]
    if risk_map.off_map:
        notes.append(f"另有 {risk_map.off_map} 处风险点的所在位置不在“风险分布图”上，请在台账中补画。")
    if not risk_map.sketched:
        notes.append("台账“风险分布图”表中尚未画出厂区平面，本图按所在位置示意排列。")
    return notes


def rewards(data: WorkbookData, as_of: date) -> list[dict[str, str]]:
    """奖惩考核 of the last 12 months for the notice board (三有：厂区有公告), newest first."""
    rows = sorted(sanyou.rewards_12m(data, as_of), key=lambda r: r["date"], reverse=True)
    return [dict(record_text(r, ("target", "kind", "reason", "measure")), date=text(r["date"])) for r in rows]


def signs(data: WorkbookData) -> list[dict[str, str]]:
    """The warning-sign inventory per area for the notice board (五化：警示标志醒目化)."""
    by_area: dict[str, list[Record]] = defaultdict(list)
    for s in data.records("sign"):
        by_area[s["location"] or "未填写区域"].append(s)
    out = []
    for area, items in by_area.items():
        names = "、".join(f"{text(s['name'])}×{s['count'] or 1}" + (f"（{s['state']}）" if s["state"] in sanyou.BAD_SIGN_STATES else "")
                         for s in items)
        out.append({"location": text(area), "signs": names, "total": str(sum(int(s["count"] or 1) for s in items))})
    return out


def deadline_status(period: Period, as_of: date) -> str:
    """What the printed table says about its own deadline (16号令 art. 14, the calendar of
    :mod:`dpsheets.rules.reporting`): printed on *as_of* and sent that day, is it on time or late?"""
    from dpsheets.rules.reporting import Status, status

    due = period.report_due
    if status(as_of, due, as_of) is Status.LATE:
        return f"本表于 {text(as_of)} 填报，已超过报送期限（{text(due)}）{(as_of - due).days} 天，属逾期报送。"
    if as_of == due:
        return f"今天（{text(as_of)}）是本表的报送期限，请当日报送。"
    return f"请于 {text(due)} 前报送，还有 {(due - as_of).days} 天。"


def is_late(period: Period, as_of: date) -> bool:
    from dpsheets.rules.reporting import Status, status

    return status(as_of, period.report_due, as_of) is Status.LATE


def quarterly(data: WorkbookData, period: Period, as_of: date) -> dict[str, Any]:
    stats: HazardStats = hazard_stats(data.records("hazard"), period)
    values: dict[str, str] = {k: text(v, "0") for k, v in stats.as_dict().items()}
    rate = stats.rectification_rate
    values["rate"] = "本季度未发现隐患" if rate is None else f"{rate:.0%}"
    return {"period": {"label": period.label, "start": text(period.start), "end": text(period.end),
                       "report_due": text(period.report_due), "status": deadline_status(period, as_of),
                       "late": is_late(period, as_of)}, "stats": values}
