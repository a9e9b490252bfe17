"""The county's roster of expected enterprises (名单), so the summary can say who has not submitted."""

from __future__ import annotations

from pathlib import Path

import python_calamine as pc
import xlsxwriter

from dpsheets.county.rollup import MissingRow
from dpsheets.errors import DpsheetsError
from dpsheets.fsutil import atomic_path
from dpsheets.workbook import normalize as nz
from dpsheets.workbook.registers import IDENTITY, INDUSTRIES

# The identity columns of 企业信息 (registers.IDENTITY), enterprise name first as a clerk lists them.
COLUMNS = tuple((f.key, f.header, f.aliases) for f in sorted(IDENTITY, key=lambda f: f.key != "name"))
SHEET = "企业名单"


def write_template(path: Path) -> Path:
    with atomic_path(path) as tmp:  # never a half-written or 0-byte file under the real name
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False})
        ws = wb.add_worksheet(SHEET)
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        for c, (_, header, _) in enumerate(COLUMNS):
            ws.write_string(0, c, header, head)
            ws.set_column(c, c, 30 if c < 2 else 18)
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
    names = {nz.header_key(n): key for key, header, aliases in COLUMNS for n in (header, *aliases)}
    index = {names[nz.header_key(h)]: i for i, h in enumerate(rows[0]) if nz.header_key(h) in names}
    if "uscc" not in index:
        raise DpsheetsError("roster.no-uscc", "企业名单缺少“统一社会信用代码”列。", path=str(path))
    out, warnings, seen = [], [], set()
    for r, row in enumerate(rows[1:], start=2):
        values = {k: nz.as_text(row[i]) if i < len(row) else "" for k, i in index.items()}
        code = nz.normalize_uscc(values.get("uscc", ""))
        if not code:
            continue
        if nz.uscc_problem(code) or code in seen:
            warnings.append(f"企业名单第 {r} 行：统一社会信用代码“{code}”{'重复' if code in seen else '无效'}，已跳过。")
            continue
        seen.add(code)
        out.append(MissingRow(code, values.get("name") or code, values.get("county", ""), values.get("township", ""),
                              values.get("industry", "")))
    return out, warnings
