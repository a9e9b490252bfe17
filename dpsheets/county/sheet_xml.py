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

import functools
import io
import os
import re
import shutil
import threading
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter
import xlsxwriter.workbook
import xlsxwriter.worksheet
from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.xmlwriter import XMLwriter

try:
    from isal import isal_zlib as _isal
except ImportError:  # optional: zlib zips the same format, slower
    _isal = None  # type: ignore[assignment]

_SPECIAL = re.compile(r'[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_')
_STRMAX = 32767



@dataclass(frozen=True)
class Styles:
    """The format of each kind of cell (None: no format): how a sheet's rows are written.

    None is a blank cell (written only when it has a format, as xlsxwriter does); an int a number in
    *number*; a float a number in *floats[column]* if given, else *number*; a str (anything else, as its
    ``str``) text in *text*, or in *long_text* when longer than *long_over* characters."""

    blank: Any = None
    number: Any = None
    floats: Sequence[Any] = ()
    text: Any = None
    long_text: Any = None
    long_over: int = 1 << 30

    def of(self, column: int, value: Any) -> tuple[str, Any]:
        """(kind, format) of *value* in *column*: kind "b" blank, "n" number, "s" text."""
        if value is None:
            return "b", self.blank
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and column < len(self.floats):
                return "n", self.floats[column]
            return "n", self.number
        text = value if isinstance(value, str) else str(value)
        return "s", self.long_text if len(text) > self.long_over else self.text


PLAIN = Styles()
# A row is written from its template only if none of its texts needs more than the plain <t>…</t>: all printable
# (no control character, no space other than " "), no character to escape (& < >), none of Excel's _xHHHH_
# escapes, and no space at either end (xml:space="preserve"). Checked at once on the texts joined by _JOIN
# (a text holding "|" next to a space is merely written cell by cell).
_JOIN = "|"


@dataclass(frozen=True)
class _Shape:
    template: str  # "" when a value's type has no template (written cell by cell)


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


@dataclass(frozen=True)
class CellAttrs:
    """The style attribute (`` s="3"``, or "" for none) each kind of cell is written with: a sheet's
    :class:`Styles` resolved against its workbook (plain values, so that another process can write rows)."""

    blank: str = ""
    number: str = ""
    text: str = ""
    long: str = ""
    floats: tuple[str, ...] = ()
    long_over: int = 1 << 30

    @classmethod
    def of(cls, styles: Styles) -> CellAttrs:
        def attr(f: Any) -> str:
            return "" if f is None else f' s="{f._get_xf_index()}"'

        return cls(attr(styles.blank), attr(styles.number), attr(styles.text), attr(styles.long_text),
                   tuple(attr(f) for f in styles.floats), styles.long_over)


class RowXml:
    """The ``<row>`` XML of rows of values, as xlsxwriter writes them in constant-memory mode (in-line strings,
    the same escapes, the style attributes *attrs*)."""

    def __init__(self, attrs: CellAttrs) -> None:
        self.attrs = attrs
        self.columns: list[str] = []
        self._shapes: dict[Any, _Shape] = {}
        self._long_matters = attrs.long != attrs.text

    def xml(self, n: str, values: Sequence[Any]) -> str:
        """The XML of row *n* (its number in the sheet, as text): from the template of its cells' types, else
        (a value to escape, a text with a space at an end, a type of its own) cell by cell (:meth:`_row`)."""
        columns = self.columns
        while len(columns) < len(values):
            columns.append(f'<c r="{xl_col_to_name(len(columns))}')
        types = tuple(map(type, values))
        long = tuple([len(v) > self.attrs.long_over for v in values if type(v) is str]) if self._long_matters else ()
        shape = self._shapes.get((types, long))
        if shape is None:
            if len(self._shapes) > 4096:  # a sheet of ever new combinations: keep the cache small
                self._shapes.clear()
            shape = self._shapes[types, long] = self._shape(types, long)
        if not shape.template:
            return self._row(n, values)
        texts = _JOIN.join([v for v in values if type(v) is str])
        if texts and (not texts.isprintable() or "&" in texts or "<" in texts or ">" in texts or "_x" in texts
                      or texts[0] == " " or texts[-1] == " " or " |" in texts or "| " in texts
                      or len(texts) > _STRMAX // 2):
            return self._row(n, values)
        return shape.template.format(n, *values)

    def _shape(self, types: tuple[type, ...], long: tuple[bool, ...]) -> _Shape:
        """The row template of one combination of cell types (and long texts): ``{0}`` the row number, ``{i}``
        the value of column i - 1, written as :meth:`_row` writes it; no template ("") for other types."""
        a = self.attrs
        parts, longs = ['<row r="{0}">'], iter(long if self._long_matters else [False] * len(types))
        for c, t in enumerate(types):
            cell = f"{self.columns[c]}{{0}}\""
            if t is str:
                style = a.long if next(longs) else a.text
                parts.append(f'{cell}{style} t="inlineStr"><is><t>{{{c + 1}}}</t></is></c>')
            elif t is type(None):
                if a.blank:
                    parts.append(f"{cell}{a.blank}/>")
            elif t is int or t is float:
                style = a.floats[c] if t is float and c < len(a.floats) else a.number
                parts.append(f"{cell}{style}><v>{{{c + 1}:.16G}}</v></c>")
            else:
                return _Shape("")
        parts.append("</row>")
        return _Shape("".join(parts))

    def _row(self, n: str, values: Sequence[Any]) -> str:
        """The XML of one row, cell by cell."""
        columns = self.columns
        while len(columns) < len(values):
            columns.append(f'<c r="{xl_col_to_name(len(columns))}')
        out = [f'<row r="{n}">']
        add = out.append
        a = self.attrs
        long_over, floats, nfloats = a.long_over, a.floats, len(a.floats)
        text_style, long_style, number_style, blank = a.text, a.long, a.number, a.blank
        special = _SPECIAL.search
        for c, value in enumerate(values):
            t = type(value)
            if t is str or (t is not int and t is not float and value is not None):
                text = value if t is str else str(value)
                style = long_style if len(text) > long_over else text_style
                if special(text) or len(text) > _STRMAX // 2 or (text and (text[0].isspace() or text[-1].isspace())):
                    add(f'{columns[c]}{n}"{style} t="inlineStr"><is>{_text(text)}</is></c>')
                else:
                    add(f'{columns[c]}{n}"{style} t="inlineStr"><is><t>{text}</t></is></c>')
            elif value is None:
                if blank:  # xlsxwriter writes a blank cell only when it has a format
                    add(f'{columns[c]}{n}"{blank}/>')
            else:
                style = floats[c] if t is float and c < nfloats else number_style
                add(f'{columns[c]}{n}"{style}><v>{value:.16G}</v></c>')
        add("</row>")
        return "".join(out)


class RowFile:
    """Rows from *first_row* on (0-based) written as sheet XML to the file at *path* (UTF-8), in another
    process if need be, for :meth:`FastRows.adopt`; :meth:`close` gives (how many rows, the last column
    written, -1 for none)."""

    def __init__(self, path: str | os.PathLike[str], attrs: CellAttrs, first_row: int) -> None:
        self.out = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by close()
        self.maker, self.first, self.n, self.top = RowXml(attrs), first_row, first_row, -1
        self.pending: list[str] = []

    def write(self, values: Sequence[Any]) -> None:
        self.n += 1
        self.pending.append(self.maker.xml(str(self.n), values))
        if values:
            self.top = max(self.top, len(values) - 1)
        if len(self.pending) >= 256:
            self.out.write("".join(self.pending))
            self.pending = []

    def close(self) -> tuple[int, int]:
        self.out.write("".join(self.pending))
        self.pending = []
        self.out.close()
        return self.n - self.first, self.top


class FastRows:
    """Writes rows from *first_row* on into *ws* (0-based rows and columns, cells from column 0) in *styles*."""

    def __init__(self, ws: Any, first_row: int, styles: Styles = PLAIN) -> None:
        self.ws = ws
        self.first = self.row = first_row
        self.styles = styles
        self.direct = bool(getattr(ws, "constant_memory", False)) and getattr(ws, "row_data_fh", None) is not None \
            and ws.fh is ws.row_data_fh and hasattr(ws, "previous_row") and ws.previous_row < first_row
        self.top_col = -1
        self._pending: list[str] = []  # rows not yet written to the sheet's file (a few hundred at a time)
        if self.direct:
            ws._write_single_row(first_row)  # flush the rows xlsxwriter still holds (the header)
            self.attrs = CellAttrs.of(styles)
            self.maker = RowXml(self.attrs)

    def write(self, values: Sequence[Any]) -> None:
        """One row, from column 0."""
        r = self.row
        self.row += 1
        if not self.direct:
            for c, value in enumerate(values):
                kind, fmt = self.styles.of(c, value)
                if kind == "b":
                    self.ws.write_blank(r, c, None, fmt)
                elif kind == "n":
                    self.ws.write_number(r, c, value, fmt)
                else:
                    self.ws.write_string(r, c, value if isinstance(value, str) else str(value), fmt)
            return
        self._pending.append(self.maker.xml(str(r + 1), values))
        if len(self._pending) >= 256:
            self.flush()
        if values:
            self.top_col = max(self.top_col, len(values) - 1)

    def write_all(self, rows: Iterable[Sequence[Any]]) -> int:
        """Every row of *rows*; how many."""
        start = self.row
        for values in rows:
            self.write(values)
        self.close()
        return self.row - start

    def adopt(self, path: str | os.PathLike[str], written: tuple[int, int]) -> int:
        """The rows a :class:`RowFile` wrote to *path* from this writer's next row on (*written*: what it
        gave), as if written here; how many. (Only where the rows go straight to the sheet's file.)"""
        count, top = written
        if not self.direct:
            raise ValueError("rows written elsewhere need a constant-memory worksheet")
        self.flush()
        fh = self.ws.fh
        fh.flush()
        with open(path, "rb") as rows:
            shutil.copyfileobj(rows, fh.buffer, 1 << 20)
        self.row += count
        self.top_col = max(self.top_col, top)
        self.close()  # the dimensions (more rows may follow: close again after them)
        return count

    def flush(self) -> None:
        """The rows held back written to the sheet's file."""
        if self._pending:
            self.ws.fh.write("".join(self._pending))
            self._pending = []

    def close(self) -> None:
        """The rows held back written, and the worksheet's dimensions as xlsxwriter would have kept them."""
        if not self.direct:
            return
        self.flush()
        if self.top_col < 0:
            return
        ws = self.ws
        last = self.row - 1
        ws.dim_rowmin = self.first if ws.dim_rowmin is None else min(ws.dim_rowmin, self.first)
        ws.dim_rowmax = last if ws.dim_rowmax is None else max(ws.dim_rowmax, last)
        ws.dim_colmin = 0
        ws.dim_colmax = self.top_col if ws.dim_colmax is None else max(ws.dim_colmax, self.top_col)
        ws.previous_row = last


ZIP_LEVEL = 1  # zlib's fastest: some 3.5 times faster than its default (6), the file some 25 % larger
_ZIPPING = threading.Lock()


class _Worksheet(xlsxwriter.worksheet.Worksheet):
    """A worksheet whose streamed rows (constant-memory mode) go into the sheet's XML as bytes: xlsxwriter
    reads them back and writes them again as text, decoding and encoding every character (some hundreds of
    megabytes in a province summary)."""

    def _write_optimized_sheet_data(self) -> None:
        rows, fh = self.row_data_fh, self.fh
        if self.dim_rowmin is None or not isinstance(rows, io.TextIOWrapper) or not isinstance(fh, io.TextIOWrapper):
            super()._write_optimized_sheet_data()
            return
        self._xml_start_tag("sheetData")
        rows.flush()
        rows.seek(0)
        fh.flush()
        shutil.copyfileobj(rows.buffer, fh.buffer, 1 << 20)
        rows.close()
        os.unlink(self.row_data_filename)
        self._xml_end_tag("sheetData")


class _ZipFile(zipfile.ZipFile):
    """A zip file whose deflated members are compressed with ISA-L (python-isal) when it is installed: the
    same deflate format, some five times faster than zlib at its fastest level and as small."""

    def _open_to_write(self, zinfo: zipfile.ZipInfo, force_zip64: bool = False) -> Any:
        dest = super()._open_to_write(zinfo, force_zip64)  # type: ignore[misc]
        if _isal is not None and zinfo.compress_type == zipfile.ZIP_DEFLATED and hasattr(dest, "_compressor"):
            dest._compressor = _isal.compressobj(ISAL_LEVEL, zlib.DEFLATED, -15)
        return dest


ISAL_LEVEL = 1


class FastWorkbook(xlsxwriter.Workbook):
    """An xlsxwriter workbook written faster: its streamed rows copied as bytes (:class:`_Worksheet`) and the
    file zipped by ISA-L (:class:`_ZipFile`), else by zlib at :data:`ZIP_LEVEL` (xlsxwriter has no option for
    either: its issue #853). The sheets inside are the same. (If xlsxwriter stops creating its zip file through
    ``xlsxwriter.workbook.ZipFile``, the workbook is zipped as xlsxwriter zips it.)"""

    worksheet_class = _Worksheet

    def _store_workbook(self) -> None:
        original = getattr(xlsxwriter.workbook, "ZipFile", None)
        if original is None:
            super()._store_workbook()
            return
        with _ZIPPING:  # the module's name is swapped for this call only, one workbook at a time
            xlsxwriter.workbook.ZipFile = _ZipFile if _isal is not None else \
                functools.partial(original, compresslevel=ZIP_LEVEL)
            try:
                super()._store_workbook()
            finally:
                xlsxwriter.workbook.ZipFile = original
