"""一题: the workers' phone confirmations of their post's five questions, kept in the archive.

A worker who answers all five questions of their post right on the phone (``dpsheets serve``)
leaves one confirmation (date, name, workshop, post, result, 手机扫码). They count in the
roll-up together with the 答题确认记录 sheet of the enterprise's workbook — the same
(date, name, post) counted once, so a confirmation the enterprise copied into its workbook
after :func:`export` is not counted twice — and :func:`export` writes them in the layout of
that sheet so the enterprise can paste them into its workbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dpsheets.county.archive import Archive
from dpsheets.workbook.registers import QUIZ

RESULT_PASSED = "全部正确"
VIA_PHONE = "手机扫码"
SHEET_VIA = "手机"  # the 确认方式 choice of the 答题确认记录 sheet that a phone confirmation is


@dataclass(frozen=True)
class Confirmation:
    id: int
    uscc: str
    day: str
    at: str
    name: str
    workshop: str
    post: str
    result: str
    via: str


# Every attempt is audited (who: the worker, target: the enterprise), so that the service's processes share
# the limits on attempts per worker and per address (counted in the audit log).
ADDED, AGAIN, REFUSED = "confirmation.add", "confirmation.again", "confirmation.refused"
ATTEMPTS = (ADDED, AGAIN, REFUSED)


def worker(name: str) -> str:
    """The audit log's *who* of a worker's attempt (the name as given, cut to 40 characters)."""
    return f"员工:{name[:40]}"


def record(archive: Archive, *, uscc: str, name: str, workshop: str, post: str, now: datetime,
           address: str | None) -> tuple[int, bool]:
    """Record a passed confirmation, audited; (id, created). One per worker, post and day."""
    day = now.date().isoformat()
    with archive.transaction() as tx:
        found = tx.execute("SELECT id FROM confirmations WHERE uscc = ? AND day = ? AND name = ? AND workshop = ? "
                           "AND post = ?", (uscc, day, name, workshop, post)).fetchone()
        if found:
            archive.audit(worker(name), AGAIN, uscc, f"{workshop} {post} 第{found[0]}号 今天已确认", address, now=now, db=tx)
            return found[0], False
        cur = tx.execute("INSERT INTO confirmations (uscc, day, at, name, workshop, post, result, via, address) "
                         "VALUES (?,?,?,?,?,?,?,?,?)",
                         (uscc, day, now.isoformat(timespec="seconds"), name, workshop, post, RESULT_PASSED, VIA_PHONE,
                          address))
        cid = int(cur.lastrowid or 0)
        archive.audit(worker(name), ADDED, uscc, f"{workshop} {post} 第{cid}号 {RESULT_PASSED}", address, now=now, db=tx)
    return cid, True


def refused(archive: Archive, *, uscc: str, name: str, workshop: str, post: str, reason: str, now: datetime,
            address: str | None) -> None:
    """Audit an attempt that recorded nothing; *reason* says why (Chinese, for the audit page)."""
    archive.audit(worker(name), REFUSED, uscc, f"{workshop} {post} {reason}"[:200], address, now=now)


def confirmations(archive: Archive, uscc: str, since: date | None = None) -> list[Confirmation]:
    sql, args = "SELECT * FROM confirmations WHERE uscc = ?", [uscc]
    if since is not None:
        sql += " AND day >= ?"
        args.append(since.isoformat())
    return [_row(r) for r in archive.db.execute(sql + " ORDER BY day, at, id", args)]


def _row(r: Any) -> Confirmation:
    return Confirmation(r["id"], r["uscc"], r["day"], r["at"], r["name"], r["workshop"], r["post"], r["result"], r["via"])


def export(archive: Archive, uscc: str, path: Path, since: date | None = None) -> tuple[Path, int]:
    """The enterprise's phone confirmations as a workbook in the 答题确认记录 sheet layout."""
    import xlsxwriter

    from dpsheets.fsutil import atomic_path

    rows = confirmations(archive, uscc, since)
    headers = [f.header for f in QUIZ.fields]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp))
        head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
        day_format = wb.add_format({"num_format": "yyyy-mm-dd", "border": 1})
        cell = wb.add_format({"border": 1})
        ws = wb.add_worksheet(QUIZ.sheet)
        for c, (f, h) in enumerate(zip(QUIZ.fields, headers, strict=True)):
            ws.write(0, c, h, head)
            ws.set_column(c, c, max(f.width, 12))
        for r, item in enumerate(rows, start=1):
            values = {"date": date.fromisoformat(item.day), "name": item.name, "post": item.post, "result": item.result,
                      "via": SHEET_VIA}
            for c, f in enumerate(QUIZ.fields):
                value = values.get(f.key, "")
                if isinstance(value, date):
                    ws.write_datetime(r, c, datetime(value.year, value.month, value.day), day_format)
                else:
                    ws.write_string(r, c, str(value), cell)
        ws.freeze_panes(1, 0)
        wb.close()
    return path, len(rows)
