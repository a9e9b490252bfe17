"""``dpsheets convert``: registers as enterprises keep them, moved into the standard workbook.

One or several workbooks (a risk file and a hazard file, say) are read as :func:`read_workbook`
reads them — headers recognised, values normalised — and written as one standard workbook. Its
转换说明 sheet lists, for every source column, where it went or why it was dropped, and every value
that was rewritten. Cells that could not be read are carried over as written, so checking the
converted workbook reports the same hazards as checking the originals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dpsheets.config import Config
from dpsheets.rules.findings import hazard_name
from dpsheets.workbook.model import Rewrite
from dpsheets.workbook.reader import read_workbook
from dpsheets.workbook.registers import ENTERPRISE, META_NOT_CONVERTED, REGISTERS
from dpsheets.workbook.template import write_workbook

NOTES_SHEET = "转换说明"


@dataclass(frozen=True)
class ColumnNote:
    file: str
    sheet: str
    letter: str
    header: str
    target: str  # "风险管控清单 / 管控措施", or "" when dropped
    reason: str = ""


@dataclass
class Conversion:
    output: Path
    counts: dict[str, int] = field(default_factory=dict)  # standard sheet → rows written
    columns: list[ColumnNote] = field(default_factory=list)
    rewrites: list[tuple[str, Rewrite]] = field(default_factory=list)  # (file, rewrite)
    not_converted: list[str] = field(default_factory=list)  # standard sheets no source had (written empty)

    @property
    def dropped(self) -> list[ColumnNote]:
        return [c for c in self.columns if not c.target]


def convert(paths: Sequence[str | Path], output: str | Path, enterprise: Mapping[str, Any] | None = None,
            config: Config | None = None) -> Conversion:
    """Read every workbook of *paths* and write their registers into the standard workbook *output*.

    *enterprise* (name, uscc, county) overrides what the sources say. Raises :class:`DpsheetsError`
    when a source cannot be read or holds no register."""
    result = Conversion(Path(output))
    rows: dict[str, list[dict[str, Any]]] = {r.key: [] for r in REGISTERS if not r.key_value}
    ent: dict[str, Any] = {}
    present: set[str] = set()
    for path in map(Path, paths):
        data = read_workbook(path, config)
        for key, sheet in data.sheets.items():
            if not sheet.present:
                continue
            present.add(key)
            if sheet.register.key_value:
                for record in sheet.records:
                    for k, v in _row(record).items():
                        if v is not None and ent.get(k) is None:
                            ent[k] = v
                continue
            for record in sheet.records:
                row = _row(record)
                if key == "hazard" and not row.get("name") and row.get("description"):
                    row["name"] = hazard_name(record)
                    result.rewrites.append((path.name, Rewrite(record.sheet, record.row, record.cell("description"),
                                                               "name", "隐患名称", "", row["name"], "named",
                                                               "隐患名称未填写，取自隐患描述")))
                rows[key].append(row)
            result.columns.extend(_notes(path.name, sheet))
            result.rewrites.extend((path.name, r) for r in sheet.rewrites)
    ent.update({k: v for k, v in (enterprise or {}).items() if v})
    if any(v is not None for v in ent.values()):
        present.add(ENTERPRISE.key)  # from a source or from the command line
    else:
        present.discard(ENTERPRISE.key)
    result.counts = {r.sheet: len(rows[r.key]) for r in REGISTERS if not r.key_value and rows[r.key]}
    # Registers no source had are written empty and stay "missing" (as in the originals) until filled in.
    result.not_converted = [r.sheet for r in REGISTERS if r.key not in present]
    meta = {META_NOT_CONVERTED: ",".join(r.key for r in REGISTERS if r.key not in present)}
    write_workbook(result.output, ent, rows, extra=lambda wb: _write_notes(wb, result), meta=meta,
                   paper=config.print.paper if config else "A4")
    return result


def _row(record: Any) -> dict[str, Any]:
    """The record's values; a cell that could not be read keeps what was written."""
    row = dict(record.values)
    for key, original in record.invalid.items():
        row[key] = original
    return row


def _notes(file: str, sheet: Any) -> list[ColumnNote]:
    out = []
    register = sheet.register
    for name, layout in sheet.sources:
        for col in layout.columns:
            if col.key:
                target = f"{register.sheet} / {register[col.key].header}"
                reason = f"作为“{col.part}”并入" if col.part else ""
                out.append(ColumnNote(file, name, col.letter, col.header, target, reason))
            else:
                hint = f"（可能是“{col.hint}”，可在 dpsheets.toml 的 [aliases] 中设置）" if col.hint else ""
                out.append(ColumnNote(file, name, col.letter, col.header, "", col.reason + hint))
        for key, (text, r, _c) in layout.preamble.items():
            out.append(ColumnNote(file, name, f"第{r + 1}行", text, f"{register.sheet} / {register[key].header}",
                                  "表头上方的说明，填入每一行"))
    return out


_KIND = {"value": "按标准取值", "relative": "按发现日期换算", "relative-unknown": "无法换算，保留原文", "inferred": "按记录推定",
         "preamble": "取自表头上方", "named": "取自隐患描述"}


def _write_notes(wb: Any, result: Conversion) -> None:
    ws = wb.add_worksheet(NOTES_SHEET)
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    text = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    title = wb.add_format({"bold": True, "font_size": 13})
    ws.write(0, 0, "转换说明：原台账的每一列去了哪里，哪些值被改写", title)
    r = 2
    ws.write(r, 0, "一、列", title)
    r += 1
    for c, h in enumerate(("原文件", "原工作表", "原列", "原列名", "转入（标准表 / 列）", "说明")):
        ws.write(r, c, h, bold)
    for column in result.columns:
        r += 1
        for c, v in enumerate((column.file, column.sheet, column.letter, column.header, column.target or "未转换",
                               column.reason)):
            ws.write_string(r, c, v, text)
    r += 2
    ws.write(r, 0, "二、改写的值", title)
    r += 1
    for c, h in enumerate(("原文件", "原工作表", "单元格", "标准列", "原值", "转换后", "说明")):
        ws.write(r, c, h, bold)
    for file, rw in result.rewrites:
        r += 1
        note = _KIND.get(rw.kind, rw.kind) + (f"：{rw.note.lstrip('，')}" if rw.note else "")
        for c, cell in enumerate((file, rw.sheet, rw.cell or f"第{rw.row}行", rw.column, rw.original, rw.new, note)):
            ws.write_string(r, c, cell, text)
    if result.not_converted:
        r += 2
        ws.write(r, 0, "三、原台账没有的清单（已写成空表，补填之前检查时按“台账不全”提示）", title)
        for sheet in result.not_converted:
            r += 1
            ws.write_string(r, 0, sheet, text)
    for c, width in enumerate((18, 14, 8, 22, 28, 40, 30)):
        ws.set_column(c, c, width)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


__all__ = ["ENTERPRISE", "NOTES_SHEET", "ColumnNote", "Conversion", "convert"]
