"""The county's roster of expected enterprises (名单), so the summary can say who has not submitted.

Besides the identity columns, a row may set the enterprise's own reporting deadlines when the county sets
others than 16号令's (:mod:`dpsheets.rules.reporting`): 季报截止日 (the day of the month after each quarter,
1–30, e.g. ``10`` or ``次月10日``) and 年报截止日 (a day of the next year, e.g. ``2月28日`` or ``02-28``).
Blank cells keep the default (15th; 1月31日). A value that is not a deadline stops the roll-up with a
message naming the cell: a wrong deadline would make 按时 into 逾期 (or back) without anyone noticing.
"""

from __future__ import annotations

from pathlib import Path

import python_calamine as pc
import xlsxwriter

from dpsheets.county.rollup import MissingRow
from dpsheets.errors import DpsheetsError
from dpsheets.fsutil import atomic_path
from dpsheets.rules import reporting
from dpsheets.workbook import normalize as nz
from dpsheets.workbook.registers import IDENTITY, INDUSTRIES

# The identity columns of 企业信息 (registers.IDENTITY), enterprise name first as a clerk lists them.
COLUMNS = tuple((f.key, f.header, f.aliases) for f in sorted(IDENTITY, key=lambda f: f.key != "name"))
SHEET = "企业名单"
# Optional columns: the enterprise's own reporting deadlines (key, header, aliases).
DEADLINE_COLUMNS = (("quarter_due", "季报截止日", ("季报期限", "季度统计截止日")),
                    ("year_due", "年报截止日", ("年报期限", "年度统计截止日")))


def write_template(path: Path) -> Path:
    with atomic_path(path) as tmp:  # never a half-written or 0-byte file under the real name
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False})
        ws = wb.add_worksheet(SHEET)
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        for c, (_, header, _) in enumerate((*COLUMNS, *DEADLINE_COLUMNS)):
            ws.write_string(0, c, header, head)
            ws.set_column(c, c, 30 if c < 2 else 18)
        first = len(COLUMNS)
        default_q, default_y = reporting.DEFAULT.as_text()
        ws.write_comment(0, first, f"选填：县里另定的季度统计报送期限，季度结束后次月的第几日（1～30），如“10”。空着为 {default_q} 日。")
        ws.write_comment(0, first + 1, f"选填：县里另定的年度统计报送期限（次年），如“2月28日”。空着为 {default_y}。")
        industry = [key for key, _, _ in COLUMNS].index("industry")
        ws.data_validation(1, industry, 5000, industry, {"validate": "list", "source": list(INDUSTRIES)})
        ws.freeze_panes(1, 0)
        wb.close()
    return path


def read_roster(path: Path) -> tuple[list[MissingRow], list[str]]:
    """The roster's enterprises, and Chinese warnings for rows that were skipped."""
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_name(SHEET if SHEET in wb.sheet_names else wb.sheet_names[0])
        rows = sheet.to_python()
    except Exception as exc:  # noqa: BLE001
        raise DpsheetsError("roster.unreadable", f"企业名单无法读取（{type(exc).__name__}）。请用 `dpsheets roster` 生成的模板填写。",
                            path=str(path)) from exc
    if not rows:
        return [], []
    names = {nz.header_key(n): key for key, header, aliases in (*COLUMNS, *DEADLINE_COLUMNS) for n in (header, *aliases)}
    index = {names[nz.header_key(h)]: i for i, h in enumerate(rows[0]) if nz.header_key(h) in names}
    if "uscc" not in index:
        raise DpsheetsError("roster.no-uscc", "企业名单缺少“统一社会信用代码”列。", path=str(path))
    identity = {key for key, _, _ in COLUMNS}
    out, warnings, seen, wrong = [], [], set(), []
    for r, row in enumerate(rows[1:], start=2):
        values = {k: nz.as_text(row[i]) if i < len(row) else "" for k, i in index.items() if k in identity}
        code = nz.normalize_uscc(values.get("uscc", ""))
        if not code:
            continue
        if nz.uscc_problem(code) or code in seen:
            warnings.append(f"企业名单第 {r} 行：统一社会信用代码“{code}”{'重复' if code in seen else '无效'}，已跳过。")
            continue
        seen.add(code)
        deadlines, problems = _deadlines(row, index, r)
        wrong += problems
        out.append(MissingRow(code, values.get("name") or code, values.get("county", ""), values.get("township", ""),
                              values.get("industry", ""), deadlines=deadlines))
    if wrong:
        raise DpsheetsError("roster.invalid-deadline", f"企业名单（“{SHEET}”表）的报送期限填写有误：" + "；".join(wrong) +
                            "。请改正后重新汇总（空着表示按规定期限：季报次月15日、年报次年1月31日）。", path=str(path))
    return out, warnings


def _deadlines(row: list, index: dict[str, int], r: int) -> tuple[reporting.Deadlines | None, list[str]]:
    """The row's own deadlines (None: the default calendar) and what is wrong with them, naming the cells."""
    from dpsheets.workbook.registers import column_letter

    def cell(key: str) -> tuple[object, str]:
        i = index.get(key)
        value = row[i] if i is not None and i < len(row) else ""
        return (value.strip() if isinstance(value, str) else value), (f"{column_letter(i)}{r}" if i is not None else "")

    quarter, q_cell = cell("quarter_due")
    year, y_cell = cell("year_due")
    if quarter in ("", None) and year in ("", None):
        return None, []
    problems = []
    quarter_day = reporting.DEFAULT.quarter_day
    year_month, year_day = reporting.DEFAULT.year_month, reporting.DEFAULT.year_day
    if quarter not in ("", None):
        try:
            quarter_day = reporting.parse_quarter_day(quarter)
        except ValueError as exc:
            problems.append(f"单元格 {q_cell}（季报截止日）{exc}")
    if year not in ("", None):
        try:
            year_month, year_day = reporting.parse_year_due(year)
        except ValueError as exc:
            problems.append(f"单元格 {y_cell}（年报截止日）{exc}")
    if problems:
        return None, problems
    own = reporting.Deadlines(quarter_day, year_month, year_day)
    return (None if own.is_default else own), []
