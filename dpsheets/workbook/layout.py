"""一图 on the plant's own layout: the 风险分布图 sheet, written into the standard workbook and read back.

The sheet is a grid of small square cells on which the clerk sketches the plant, the way a floor
plan is drawn in Excel: each area (车间, 库房, 配电室, 道路 …) is a block of cells holding the area's
name — typed into every cell of the block, or once into a merged block. The name must be a
所在位置 of the 风险管控清单. Conditional formatting colours every area by the highest level of
its risks, live in Excel and WPS (red 重大, orange 较大, yellow 一般, blue 低), and the legend row
counts the risk points of each level. dpsheets reads the areas (name, cells, position) to check
them against the register and to draw the printed map at the areas' positions and sizes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dpsheets.workbook.registers import RISK, RISK_COLOURS, RISK_LEVELS, column_letter

SHEET = "风险分布图"
SHEET_ALIASES = ("风险四色分布图", "四色分布图", "风险分布示意图")
GRID_TOP = 4  # 0-based row of the grid's first row (Excel row 5); rows above hold title, help and legend
GRID_ROWS = 36
GRID_COLS = 40
CELL_WIDTH = 2.6  # Excel column width units: with the row height below, the cells print as squares
CELL_HEIGHT = 18  # points
LEGEND_ROW = 2
HELP = ("画法：每个区域（车间、库房、配电室、道路等）占一块方格，在这块方格里每一格都填上区域名称，或合并成一格后填一次；"
        "名称须与“风险管控清单”的“所在位置”一致。区域按其中风险点的最高等级自动着色：红=重大、橙=较大、黄=一般、蓝=低。")


@dataclass(frozen=True)
class Area:
    """One area sketched on the sheet: its name and the grid cells (row, column; 0-based from the grid's corner)."""

    name: str
    cells: frozenset[tuple[int, int]] = field(repr=False)
    cell: str = ""  # Excel reference of its first cell, e.g. "C7", for messages

    @property
    def row(self) -> int:
        """1-based Excel row of its first cell."""
        return int("".join(ch for ch in self.cell if ch.isdigit()) or 0)

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(top, left, bottom, right), inclusive."""
        rows = [r for r, _ in self.cells]
        cols = [c for _, c in self.cells]
        return min(rows), min(cols), max(rows), max(cols)


@dataclass(frozen=True)
class Layout:
    """The plant sketch of the 风险分布图 sheet: its areas."""

    sheet: str
    areas: tuple[Area, ...]

    def area(self, location: str | None) -> Area | None:
        key = area_key(location)
        return next((a for a in self.areas if area_key(a.name) == key), None) if key else None


def area_key(name: Any) -> str:
    """An area name compared the way a clerk means it: full-width folded, spaces removed."""
    if name is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(name)).split())


def sheet_names() -> tuple[str, ...]:
    return (SHEET, *SHEET_ALIASES)


def read_layout(sheet: str, rows: list[list[Any]], merged: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> Layout:
    """The areas on the sheet: every non-blank grid cell belongs to the area it names."""
    values: dict[tuple[int, int], str] = {}
    for r in range(GRID_TOP, len(rows)):
        for c, v in enumerate(rows[r]):
            text = "" if v is None else " ".join(str(v).split())
            if text:
                values[(r, c)] = text
    for (r0, c0), (r1, c1) in merged:
        text = values.get((r0, c0)) or ""
        if text and r0 >= GRID_TOP:
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    values[(r, c)] = text
    by_name: dict[str, list[tuple[int, int]]] = {}
    names: dict[str, str] = {}
    for (r, c), text in sorted(values.items()):
        key = area_key(text)
        by_name.setdefault(key, []).append((r - GRID_TOP, c))
        names.setdefault(key, text)
    areas = [Area(names[k], frozenset(cells), f"{column_letter(cells[0][1])}{cells[0][0] + GRID_TOP + 1}")
             for k, cells in by_name.items()]
    areas.sort(key=lambda a: (a.box[0], a.box[1]))
    return Layout(sheet, tuple(areas))


# --- writing the sheet (xlsxwriter) ------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """An area of a sketch to write: name and its block of grid cells (0-based from the grid's corner)."""

    name: str
    top: int
    left: int
    height: int
    width: int


def write_layout_sheet(wb: Any, blocks: Sequence[Block] = (), level_counts: dict[str, int] | None = None,
                       paper: int = 9) -> None:
    """Add the 风险分布图 sheet: title, help, live legend, the grid with its colouring rules, print set-up."""
    ws = wb.add_worksheet(SHEET)
    last_col = GRID_COLS - 1
    ws.set_column(0, last_col, CELL_WIDTH)
    title = wb.add_format({"font_name": "黑体", "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"})
    note = wb.add_format({"font_name": "宋体", "font_size": 9, "text_wrap": True, "valign": "top"})
    grid = wb.add_format({"font_name": "宋体", "font_size": 9, "align": "center", "valign": "vcenter", "text_wrap": True,
                          "border": 1, "border_color": "#D9D9D9"})
    ws.merge_range(0, 0, 0, last_col, "风险四色分布图（在下方方格中画出厂区平面）", title)
    ws.set_row(0, 28)
    ws.merge_range(1, 0, 1, last_col, HELP, note)
    ws.set_row(1, 40)
    ws.set_row(LEGEND_ROW, 20)
    location, level = _risk_column("location"), _risk_column("level")
    source = f"'{RISK.sheet}'!${level}:${level}"
    ws.merge_range(LEGEND_ROW, 0, LEGEND_ROW, 3, "图例：", wb.add_format({"font_name": "黑体", "font_size": 10, "valign": "vcenter"}))
    counts = level_counts or {}
    for i, lvl in enumerate(RISK_LEVELS):
        left = 4 + i * 8
        fmt = wb.add_format({"font_name": "黑体", "font_size": 10, "align": "center", "valign": "vcenter", "border": 1,
                             "bg_color": f"#{RISK_COLOURS[lvl]}", "font_color": _ink(lvl)})
        ws.merge_range(LEGEND_ROW, left, LEGEND_ROW, left + 6, "", fmt)
        ws.write_formula(LEGEND_ROW, left, f'="{lvl} "&COUNTIF({source},"{lvl}")&" 处"', fmt,
                         f"{lvl} {counts.get(lvl, 0)} 处")
    for r in range(GRID_TOP, GRID_TOP + GRID_ROWS):
        ws.set_row(r, CELL_HEIGHT)
        for c in range(GRID_COLS):
            ws.write_blank(r, c, None, grid)
    for b in blocks:
        r0, c0 = GRID_TOP + b.top, b.left
        if b.height == 1 and b.width == 1:
            ws.write_string(r0, c0, b.name, grid)
        else:
            ws.merge_range(r0, c0, r0 + b.height - 1, c0 + b.width - 1, b.name, grid)
    first = f"A{GRID_TOP + 1}"
    where = f"'{RISK.sheet}'!${location}:${location}"
    bottom = GRID_TOP + max(GRID_ROWS, max((b.top + b.height for b in blocks), default=0)) - 1
    for lvl in RISK_LEVELS:
        fmt = wb.add_format({"bg_color": f"#{RISK_COLOURS[lvl]}", "font_color": _ink(lvl), "bold": True})
        ws.conditional_format(GRID_TOP, 0, bottom, last_col, {
            "type": "formula", "format": fmt, "stop_if_true": True,
            "criteria": f'=AND({first}<>"",COUNTIFS({where},{first},{source},"{lvl}")>0)'})
    ws.set_landscape()
    ws.set_paper(paper)  # Excel's code: 9 A4, 8 A3
    ws.fit_to_pages(1, 1)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.print_area(0, 0, bottom, last_col)


def _ink(level: str) -> str:
    return "#FFFFFF" if level in ("重大风险", "低风险") else "#000000"


def _risk_column(key: str) -> str:
    return column_letter(next(i for i, f in enumerate(RISK.fields) if f.key == key))
