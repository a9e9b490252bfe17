"""Rows of a constant-memory xlsxwriter worksheet written as sheet XML directly.

xlsxwriter's ``constant_memory`` mode streams each row to a temporary file, but it still spends
some 20 µs per cell on bookkeeping (a cell tuple, dimension checks, three regular expressions).
A province summary has some 12 million cells, so that alone was most of its three minutes.
:class:`FastRows` writes the same ``<row>``/``<c>`` XML that xlsxwriter writes for ``write_string``,
``write_number`` and ``write_blank`` (in-line strings, the same escapes, the same style indices)
straight into that temporary file, one row at a time, and keeps the worksheet's dimensions up to
date, so xlsxwriter assembles the sheet as if it had written the cells itself. A worksheet that
is not in constant-memory mode (or an xlsxwriter that no longer keeps that file) gets the cells
through the ordinary ``write_*`` calls: the result is the same workbook, only slower.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.xmlwriter import XMLwriter

_SPECIAL = re.compile(r'[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_')
_STRMAX = 32767

# A cell's value → (kind, style): kind "s" text, "n" number, "b" blank; style a Format or None.
Styler = Callable[[int, Any], tuple[str, Any]]


def _text(value: str) -> str:
    """The ``<is>`` content xlsxwriter writes for *value* in constant-memory mode."""
    if len(value) > _STRMAX // 2 and _utf16_len(value) > _STRMAX:
        value = _utf16_truncate(value, _STRMAX)
    if _SPECIAL.search(value):
        value = XMLwriter._escape_control_characters(value)
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if value and (value[0].isspace() or value[-1].isspace()):
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


class FastRows:
    """Writes rows from *first_row* on into *ws* (0-based rows and columns, cells from column 0).

    *style* decides, per column and value, what kind of cell it is and its format (see
    :data:`Styler`); it must agree with the slow path, which calls ``write_string``,
    ``write_number`` or ``write_blank`` with the same format.
    """

    def __init__(self, ws: Any, first_row: int, style: Styler) -> None:
        self.ws = ws
        self.first = self.row = first_row
        self.style = style
        self.direct = bool(getattr(ws, "constant_memory", False)) and getattr(ws, "row_data_fh", None) is not None \
            and ws.fh is ws.row_data_fh and hasattr(ws, "previous_row") and ws.previous_row < first_row
        self.columns: list[str] = []
        self.styles: dict[int, str] = {}
        if self.direct:
            ws._write_single_row(first_row)  # flush the rows xlsxwriter still holds (the header)
        self.top_col = -1

    def _s(self, fmt: Any) -> str:
        if fmt is None:
            return ""
        key = id(fmt)
        if key not in self.styles:
            self.styles[key] = f' s="{fmt._get_xf_index()}"'
        return self.styles[key]

    def write(self, values: Sequence[Any]) -> None:
        """One row, from column 0."""
        r = self.row
        self.row += 1
        if not self.direct:
            for c, value in enumerate(values):
                kind, fmt = self.style(c, value)
                if kind == "b":
                    self.ws.write_blank(r, c, None, fmt)
                elif kind == "n":
                    self.ws.write_number(r, c, value, fmt)
                else:
                    self.ws.write_string(r, c, value if isinstance(value, str) else str(value), fmt)
            return
        columns = self.columns
        while len(columns) < len(values):
            columns.append(xl_col_to_name(len(columns)))
        n = str(r + 1)
        out = [f'<row r="{n}">']
        for c, value in enumerate(values):
            kind, fmt = self.style(c, value)
            s = self._s(fmt)
            if kind == "b":
                if s:  # xlsxwriter writes a blank cell only when it has a format
                    out.append(f'<c r="{columns[c]}{n}"{s}/>')
            elif kind == "n":
                out.append(f'<c r="{columns[c]}{n}"{s}><v>{value:.16G}</v></c>')
            else:
                text = _text(value if isinstance(value, str) else str(value))
                out.append(f'<c r="{columns[c]}{n}"{s} t="inlineStr"><is>{text}</is></c>')
        out.append("</row>")
        self.ws.fh.write("".join(out))
        if values:
            self.top_col = max(self.top_col, len(values) - 1)

    def write_all(self, rows: Iterable[Sequence[Any]]) -> int:
        """Every row of *rows*; how many."""
        start = self.row
        for values in rows:
            self.write(values)
        self.close()
        return self.row - start

    def close(self) -> None:
        """The worksheet's dimensions as xlsxwriter would have kept them."""
        if not self.direct or self.top_col < 0:
            return
        ws = self.ws
        last = self.row - 1
        ws.dim_rowmin = self.first if ws.dim_rowmin is None else min(ws.dim_rowmin, self.first)
        ws.dim_rowmax = last if ws.dim_rowmax is None else max(ws.dim_rowmax, last)
        ws.dim_colmin = 0
        ws.dim_colmax = self.top_col if ws.dim_colmax is None else max(ws.dim_colmax, self.top_col)
        ws.previous_row = last


def plain(_c: int, value: Any) -> tuple[str, Any]:
    """No formats: numbers as numbers (not booleans), None blank, anything else text."""
    if value is None:
        return "b", None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "n", None
    return "s", None
