"""Major-hazard alerts: the county is told at once of a 重大事故隐患 that is new, or that became overdue.

**When.** An alert of kind ``new`` (新增重大隐患) is raised when an archived submission holds a 重大隐患
that no other submission of the same enterprise in the archive held (the same hazard: the same 隐患编号,
or the same 隐患名称 and 隐患位置, so a renumbered or newly numbered hazard is still known; whatever its state,
so a closed one is told too). The UNIQUE key is the number, else name and location. An alert of kind
``overdue`` (重大隐患逾期) is raised when a 重大隐患 of an enterprise's submission is overdue (the hazard
state of :mod:`dpsheets.rules.hazard_state`) on the as-of date: at ingest against the submission's as-of
date, and by :func:`raise_overdue` (``dpsheets archive alerts``, and the watcher once a day) against the
latest submission of every enterprise, so a deadline that passes without a new submission is told too. A
hazard new and already overdue at ingest gets one alert (the 新增 one says it is overdue).

**Exactly once.** The ``alerts`` table's UNIQUE (uscc, kind, hazard_key) is the arbiter: rows are inserted
with ON CONFLICT DO NOTHING in the transaction that archives the submission, so a restart, a second ingest
of the same file or two processes at once cannot raise one twice. Files are written *from the table*:
:func:`write_pending` writes each alert without a file to ``提醒/`` (atomically, following the umask) under
a name fixed by the row (``2026-11-28_000007_新增重大隐患_企业_编号.txt``: sorted by date, then order), then
records it; a crash in between rewrites the same file, never a second one.

**Where.** An alert belongs to the folder whose watcher or ingest archived the submission (several county
folders may share one PostgreSQL archive); a periodic alert to the folder that archived the enterprise's
latest submission, or to whoever writes it first when none is known.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dpsheets.county import schema as t
from dpsheets.county.compat import AnyConnection
from dpsheets.rules.hazard_state import CLOSED_STATUS, MAJOR_LEVEL, holds

log = logging.getLogger(__name__)

FOLDER = "提醒"
WINDOW_DAYS = 30  # the summary's 新增重大隐患: alerts raised in the 30 days up to as-of, unless told a start
NEW, OVERDUE = "new", "overdue"
KIND_TEXT = {NEW: "新增重大隐患", OVERDUE: "重大隐患逾期"}
NO_FILE = ""  # file_name of an overdue alert told inside the 新增 alert of the same hazard


def _space(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def hazard_key(number: Any, name: Any, location: Any) -> str:
    """How a hazard is known across submissions: its number, else its name and location."""
    return f"编号:{_space(number)}" if _space(number) else f"名称:{_space(name)}@{_space(location)}"


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Alert:
    id: int
    uscc: str
    kind: str
    enterprise: str
    county: str
    township: str
    number: str
    name: str
    location: str
    status: str
    plan: str
    reported_on: date | None
    deadline: date | None
    days_overdue: int
    submission_id: int | None
    received_at: str
    raised_on: date
    file_name: str | None

    @classmethod
    def of(cls, row: Mapping[Any, Any]) -> Alert:
        return cls(row["id"], row["uscc"], row["kind"], row["enterprise"] or "", row["county"] or "",
                   row["township"] or "", row["number"] or "", row["name"] or "", row["location"] or "",
                   row["status"] or "", row["plan"] or "", _date(row["reported_on"]), _date(row["deadline"]),
                   int(row["days_overdue"] or 0), row["submission_id"], row["received_at"] or "",
                   _date(row["raised_on"]) or date.min, row["file_name"])

    @property
    def kind_text(self) -> str:
        return KIND_TEXT[self.kind] + ("（已逾期）" if self.kind == NEW and self.days_overdue > 0 else "")

    def file_stem(self) -> str:
        from dpsheets.county.inbox import safe_name

        who = safe_name(f"{self.enterprise or self.uscc}_{self.number or self.name}", limit=100)
        return f"{self.raised_on.isoformat()}_{self.id:06d}_{KIND_TEXT[self.kind]}_{who}"

    def deadline_text(self) -> str:
        if self.deadline is None:
            return "未填写"
        if self.days_overdue > 0:
            return f"{self.deadline.isoformat()}（至 {self.raised_on.isoformat()} 已逾期 {self.days_overdue} 天）"
        return self.deadline.isoformat()

    def text(self) -> str:
        """The alert as the county reads it (the .txt file)."""
        why = {NEW: "档案中此前没有这项重大事故隐患", OVERDUE: "这项重大事故隐患已超过治理期限仍未销号"}[self.kind]
        source = f"第 {self.submission_id} 号报送（{self.received_at} 收到）" if self.submission_id else "档案中的最近一次报送"
        lines = [
            f"重大事故隐患提醒：{self.kind_text}", "=" * 24, "",
            f"提醒类型：{KIND_TEXT[self.kind]}（{why}）", f"提醒日期：{self.raised_on.isoformat()}",
            f"企业名称：{self.enterprise}", f"统一社会信用代码：{self.uscc}",
            f"所属县（市、区）：{self.county or '未填写'}", f"乡镇（街道）：{self.township or '未填写'}", "",
            f"隐患编号：{self.number or '未填写'}", f"隐患名称：{self.name}", f"隐患位置：{self.location}",
            f"治理状态：{self.status or '未填写'}",
            f"治理方案：{self.plan or '未填写（重大事故隐患必须制定治理方案）'}",
            f"上报日期：{self.reported_on.isoformat() if self.reported_on else '未填写（重大事故隐患应及时报告负有安全生产监督管理职责的部门）'}",
            f"治理期限：{self.deadline_text()}", f"来源：{source}", "",
            "请核实情况，督促企业落实治理方案、按期整改并及时上报（16号令第十四、十五条）。", "",
        ]
        return "\n".join(lines)

    def line(self) -> str:
        """One line for the watcher's and ingest's log."""
        shown = f"{self.number} " if self.number else ""
        return (f"⚠ 重大隐患提醒（{self.kind_text}）：{self.enterprise}（{self.uscc}）{shown}{self.name}（{self.location}），"
                f"治理期限 {self.deadline_text()}，上报日期 {self.reported_on or '未填写'}"
                + (f" → {FOLDER}/{self.file_name}" if self.file_name else ""))


# --- raising ---------------------------------------------------------------------------------

_MAJORS = f"""
SELECT s.id AS sid, s.uscc, s.name AS enterprise, s.county, s.township, s.received_at, h.row, h.number, h.name,
       h.location, h.status, h.deadline, h.completed_on, h.reported_on, r.data
FROM hazards h JOIN submissions s ON s.id = h.submission_id
LEFT JOIN records r ON r.submission_id = h.submission_id AND r.register = 'hazard' AND r.row = h.row
WHERE h.level = '{MAJOR_LEVEL}' AND {{where}}
ORDER BY s.uscc, h.row
"""
_KNOWN = f"""
SELECT h.number, h.name, h.location FROM hazards h JOIN submissions s ON s.id = h.submission_id
WHERE s.uscc = :uscc AND s.id <> :sid AND h.level = '{MAJOR_LEVEL}'
"""
# The latest submission of each enterprise on or before :as_of_day, and the folder that archived it.
_LATEST = """
SELECT id FROM (SELECT s.id, ROW_NUMBER() OVER (PARTITION BY s.uscc ORDER BY s.received_at DESC, s.id DESC) AS rn
                FROM submissions s WHERE substr(s.received_at, 1, 10) <= :as_of_day) ranked WHERE rn = 1
"""


def _known(db: AnyConnection, uscc: str, sid: int) -> tuple[set[str], set[tuple[str, str]]]:
    numbers, places = set(), set()
    for number, name, location in db.execute(sa.text(_KNOWN), {"uscc": uscc, "sid": sid}):
        if _space(number):
            numbers.add(_space(number))
        places.add((_space(name), _space(location)))
    return numbers, places


def _overdue_days(h: Mapping[Any, Any], as_of: date) -> int:
    values = {"status": h["status"], "deadline": _date(h["deadline"]), "completed_on": _date(h["completed_on"])}
    if values["deadline"] is None or not holds("overdue", values, as_of):
        return 0
    return (as_of - values["deadline"]).days


def _plan(data: Any) -> str:
    try:
        return _space(json.loads(data).get("plan")) if data else ""
    except ValueError:
        return ""


def _insert(db: AnyConnection, h: Mapping[Any, Any], kind: str, *, as_of: date, now: datetime, folder: str | None,
            days_overdue: int, file_name: str | None = None) -> int | None:
    from dpsheets.county.archive import insert_ignoring_duplicates

    values = dict(uscc=h["uscc"], kind=kind, hazard_key=hazard_key(h["number"], h["name"], h["location"]),
                  enterprise=h["enterprise"], county=h["county"], township=h["township"], number=_space(h["number"]),
                  name=_space(h["name"]), location=_space(h["location"]), status=h["status"], plan=_plan(h["data"]),
                  reported_on=_date(h["reported_on"]), deadline=_date(h["deadline"]), days_overdue=days_overdue,
                  submission_id=h["sid"], received_at=h["received_at"], raised_on=as_of.isoformat(),
                  created_at=now.isoformat(timespec="seconds"), folder=folder, file_name=file_name)
    return insert_ignoring_duplicates(db, t.alerts, values, ["uscc", "kind", "hazard_key"], returning=t.alerts.c.id)


def raise_for_submission(db: AnyConnection, sid: int, *, as_of: date, now: datetime, folder: str | None) -> list[int]:
    """Alerts for the 重大隐患 of submission *sid* that are new to the archive, or overdue on *as_of*.
    Call in the transaction that archives the submission; returns the ids of the alerts raised."""
    raised = []
    for h in db.execute(sa.text(_MAJORS.format(where="s.id = :sid")), {"sid": sid}).mappings():
        numbers, places = _known(db, h["uscc"], sid)
        days = _overdue_days(h, as_of)
        new = _space(h["number"]) not in numbers if _space(h["number"]) else True
        new = new and (_space(h["name"]), _space(h["location"])) not in places
        if new and (aid := _insert(db, h, NEW, as_of=as_of, now=now, folder=folder, days_overdue=days)):
            raised.append(aid)
            if days:  # told in the 新增 alert: no second file, and no later overdue alert
                _insert(db, h, OVERDUE, as_of=as_of, now=now, folder=folder, days_overdue=days, file_name=NO_FILE)
        elif days and (aid := _insert(db, h, OVERDUE, as_of=as_of, now=now, folder=folder, days_overdue=days)):
            raised.append(aid)
    return raised


def raise_overdue(db: AnyConnection, *, as_of: date, now: datetime) -> list[int]:
    """Overdue alerts for the open 重大隐患 of every enterprise's latest submission on or before *as_of*."""
    where = (f"s.id IN ({_LATEST}) AND (h.status IS NULL OR h.status <> '{CLOSED_STATUS}') "
             "AND h.deadline IS NOT NULL")
    raised = []
    rows = list(db.execute(sa.text(_MAJORS.format(where=where)), {"as_of_day": as_of.isoformat()}).mappings())
    folders = _folders(db, {r["sid"] for r in rows})
    for h in rows:
        days = _overdue_days(h, as_of)
        if days and (aid := _insert(db, h, OVERDUE, as_of=as_of, now=now, folder=folders.get(h["sid"]),
                                    days_overdue=days)):
            raised.append(aid)
    return raised


def _folders(db: AnyConnection, sids: Iterable[int]) -> dict[int, str]:
    sids = sorted(sids)
    if not sids:
        return {}
    query = sa.select(t.jobs.c.submission_id, t.jobs.c.folder).where(t.jobs.c.submission_id.in_(sids),
                                                                     t.jobs.c.folder.is_not(None))
    return {sid: folder for sid, folder in db.execute(query)}


# --- writing the files -------------------------------------------------------------------------

def pending(db: AnyConnection, folder: str | None) -> list[Alert]:
    """Alerts without their file yet that belong to *folder* (or to no folder), oldest first."""
    a = t.alerts
    query = sa.select(a).where(a.c.file_name.is_(None))
    if folder is not None:
        query = query.where(sa.or_(a.c.folder == folder, a.c.folder.is_(None)))
    return [Alert.of(r) for r in db.execute(query.order_by(a.c.id)).mappings()]


def write_pending(archive: Any, root: Path, folder: str | None) -> list[Alert]:
    """Write every pending alert of *folder* to *root*/提醒/ and record it; the alerts written."""
    from dpsheets.fsutil import write_text_atomic

    with archive.connect() as conn:
        todo = pending(conn, folder)
    written = []
    for alert in todo:
        name = alert.file_stem() + ".txt"
        write_text_atomic(root / FOLDER / name, alert.text())
        with archive.transaction() as tx:
            done = tx.execute(t.alerts.update().where(t.alerts.c.id == alert.id, t.alerts.c.file_name.is_(None))
                              .values(file_name=name)).rowcount
        if done:
            written.append(replace(alert, file_name=name))
    return written


# --- for the summary -------------------------------------------------------------------------

ALERT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("raised_on", "提醒日期"), ("kind", "提醒类型"), ("county", "所属县（市、区）"), ("township", "乡镇（街道）/产业园区"),
    ("enterprise", "企业名称"), ("uscc", "统一社会信用代码"), ("number", "隐患编号"), ("name", "隐患名称"),
    ("location", "隐患位置"), ("status", "治理状态"), ("plan", "治理方案"), ("reported_on", "上报日期"),
    ("deadline", "治理期限"), ("days_overdue", "逾期天数"), ("file_name", "提醒文件"),
)


def merge(lists: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Several archives' or summaries' alert rows as one list: each alert once (the earliest), by date."""
    seen: dict[tuple, dict[str, Any]] = {}
    for rows in lists:
        for r in rows:
            key = (str(r["uscc"]), str(r["kind"])[:6], str(r["number"]), str(r["name"]), str(r["location"]))
            if key not in seen or str(r["raised_on"]) < str(seen[key]["raised_on"]):
                seen[key] = r
    return sorted(seen.values(), key=lambda r: (str(r["raised_on"]), str(r["uscc"]), str(r["number"]), str(r["name"])))


def listed(conn: AnyConnection, since: date, until: date) -> list[dict[str, Any]]:
    """The alerts raised after *since* and on or before *until* (dates), as the summary's rows."""
    a = t.alerts
    query = (sa.select(a).where(a.c.raised_on > since.isoformat(), a.c.raised_on <= until.isoformat(),
                                sa.or_(a.c.file_name.is_(None), a.c.file_name != NO_FILE)).order_by(a.c.raised_on, a.c.id))
    out = []
    for row in conn.execute(query).mappings():
        alert = Alert.of(row)
        out.append({"raised_on": alert.raised_on.isoformat(), "kind": alert.kind_text, "county": alert.county,
                    "township": alert.township, "enterprise": alert.enterprise, "uscc": alert.uscc,
                    "number": alert.number, "name": alert.name, "location": alert.location, "status": alert.status,
                    "plan": alert.plan, "reported_on": alert.reported_on.isoformat() if alert.reported_on else "",
                    "deadline": alert.deadline.isoformat() if alert.deadline else "",
                    "days_overdue": alert.days_overdue, "file_name": alert.file_name or ""})
    return out
