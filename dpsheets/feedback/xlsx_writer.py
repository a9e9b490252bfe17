"""Saving the highlighted copy: openpyxl's writer with its two slowest parts written as text.

openpyxl writes each cell of a sheet through lxml's incremental writer, an element object and a context
manager per cell and per value, and each comment as a tree of serialisable objects plus a VML shape of a
dozen elements. Here the cells of the ordinary kinds (text, numbers, booleans, dates, error values,
plain formulas, empty styled cells) and the comments are formatted as strings, byte for byte as openpyxl
writes them (tested against openpyxl's own writer); any other cell (an array formula, rich text, a date
with a time zone, text XML cannot hold) goes through openpyxl's own cell writer, so that it is written,
or refused, exactly as openpyxl would. Everything else in the file is openpyxl's.
"""

from __future__ import annotations

import datetime
import re
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell._writer import lxml_write_cell
from openpyxl.comments.comment_sheet import CommentRecord, CommentSheet
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.relationship import Relationship
from openpyxl.utils import coordinate_to_tuple, get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.functions import xmlfile


def save(wb: openpyxl.Workbook, out: Path) -> None:
    """``wb.save(out)`` through :class:`_Writer`. The parts are deflated at zlib's default level, as
    openpyxl does: level 1 would save 0.07 s of a 2,000-row register's 4 s but make its copy 60 % larger
    (1.6 MB, not 1.0 MB)."""
    wb.properties.modified = datetime.datetime.now(tz=datetime.timezone.utc).replace(tzinfo=None)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        _Writer(wb, archive).write_data()


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # lxml refuses these
_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
    ' xmlns:x="urn:schemas-microsoft-com:office:excel">'
    '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')
_VML_SHAPE = (
    '<v:shape type="#_x0000_t202" style="position:absolute; margin-left:59.25pt;margin-top:1.5pt;'
    'width:{width}px;height:{height}px;z-index:1;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"'
    ' id="_x0000_s{id:04d}"><v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/>'
    '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/>'
    '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
    '<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{column}</x:Column></x:ClientData></v:shape>')


def _text(text: str) -> str:
    """*text* as lxml writes an element's text (in a sheet, non-ASCII characters then become references)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attribute(value: str) -> str:
    """*value* as lxml writes an attribute's value."""
    return (_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;"))


def _number(value: Any) -> str:
    """openpyxl's ``safe_string`` of a number: 16 significant digits, NaN and infinities empty."""
    return "" if value != value or value in (float("inf"), float("-inf")) else "%.16g" % value  # noqa: UP031 - as openpyxl


class _Writer(ExcelWriter):
    """openpyxl's writer with :class:`_SheetWriter` for the worksheets and a sheet's comments, and their
    legacy VML shapes, written as text: the same parts, elements and attributes as openpyxl's."""

    _archive: zipfile.ZipFile  # set by ExcelWriter.__init__ (private attributes the stubs leave out)
    _comments: list[CommentSheet]

    def write_worksheet(self, ws) -> None:  # noqa: ANN001 - a Worksheet (or a chart sheet's: openpyxl's own)
        if self.workbook.write_only:
            super().write_worksheet(ws)
            return
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _SheetWriter(ws, BytesIO())
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.xml())
        self.manifest.append(ws)

    def _write_comment(self, ws) -> None:  # noqa: ANN001 - a Worksheet
        records = ws._comments
        texts = [(r.author or "", r.text.t or "") for r in records]
        if self.workbook.vba_archive is not None or any(_XML_INVALID.search(a + t) for a, t in texts):
            super()._write_comment(ws)  # type: ignore[misc]  # a macro workbook's own VML to merge, or text lxml refuses with its error
            return
        authors: dict[str, int] = {}
        for record, (author, _) in zip(records, texts, strict=True):
            record.authorId = authors.setdefault(author, len(authors))
        comments = CommentSheet.from_comments([])  # for its part name and content type
        self._comments.append(comments)
        comments._id = len(self._comments)
        parts = ['<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors>']
        parts += [f"<author>{_text(a)}</author>" for a in authors]
        parts.append("</authors><commentList>")
        for record, (_, text) in zip(records, texts, strict=True):
            space = ' xml:space="preserve"' if text.strip() and text != text.strip() else ""
            parts.append(f'<comment ref="{record.ref}" authorId="{record.authorId}" shapeId="0"><text>'
                         f"<t{space}>{_text(text)}</t></text></comment>")
        parts.append("</commentList></comments>")
        self._archive.writestr(comments.path[1:], "".join(parts).encode())
        self.manifest.append(comments)

        ws.legacy_drawing = f"xl/drawings/commentsDrawing{comments._id}.vml"
        shapes = [_VML_HEAD]
        for number, record in enumerate(records, 1026):
            row, column = coordinate_to_tuple(record.ref)
            shapes.append(_VML_SHAPE.format(width=record.width, height=record.height, id=number,
                                            row=row - 1, column=column - 1))
        shapes.append("</xml>")
        self._archive.writestr(ws.legacy_drawing, "".join(shapes).encode())
        self.vba_modified.add(ws.legacy_drawing)
        ws._rels.append(Relationship(Id="comments", type=comments._rel_type, Target=comments.path))


_EMPTY_ROWS = b"<sheetData></sheetData>"


class _SheetWriter(WorksheetWriter):
    """openpyxl's worksheet writer, its rows formatted as text (see the module's doc) and put in the
    place of the empty ``sheetData`` element it writes: all else in the sheet is written by openpyxl.
    (openpyxl's private attributes are typed Any here: the stubs leave them out.)"""

    _rels: Any
    _rows: bytes

    def write_rows(self) -> None:
        xf: Any = self.xf.send(True)
        with xf.element("sheetData"):
            pass
        self.xf.send(None)
        self._rows = self._rows_xml()

    def xml(self) -> bytes:
        self.close()
        out: Any = self.out
        written = out.getvalue()
        if written.count(_EMPTY_ROWS) != 1:  # before it only the sheet's properties, views and columns
            raise RuntimeError("sheetData not found in the sheet openpyxl wrote")
        return written.replace(_EMPTY_ROWS, b"<sheetData>" + self._rows + b"</sheetData>")

    def _rows_xml(self) -> bytes:
        ws: Any = self.ws
        dims = ws.row_dimensions
        epoch = ws.parent.epoch
        iso_dates = ws.parent.iso_dates
        cell_styles = ws.parent._cell_styles
        style_ids: dict[bytes, int] = {}  # a cell's style id by its style's bytes: hashed in C, not by StyleArray.__hash__
        letters: dict[int, str] = {}
        parts: list[str] = []
        add = parts.append
        rows: Any = self.rows()
        for row_idx, row in rows:
            attrs = dict(dims.get(row_idx, {}))
            extra = "".join(f' {k}="{_attribute(v)}"' for k, v in attrs.items() if k != "r")
            add(f'<row r="{row_idx}"{extra}>' if "r" not in attrs else
                f'<row r="{_attribute(attrs["r"])}"{extra}>')
            for cell in row:
                if cell._comment is not None:
                    ws._comments.append(CommentRecord.from_cell(cell))
                style = cell._style
                styled = style is not None and any(style)
                value = cell._value
                if value is None and not styled and not cell._comment:
                    continue
                column = cell.column
                letter = letters.get(column)
                if letter is None:
                    letter = letters[column] = get_column_letter(column)
                s = ""
                if styled:
                    key = style.tobytes()
                    style_id = style_ids.get(key)
                    if style_id is None:
                        style_id = style_ids[key] = cell_styles.add(style)
                    s = f' s="{style_id}"'
                xml = _cell_xml(cell, f"{letter}{cell.row}", s, value, epoch, iso_dates)
                if xml is None:
                    xml = _openpyxl_cell(cell, styled)
                elif cell.hyperlink:
                    ws._hyperlinks.append(cell.hyperlink)
                add(xml)
            add("</row>")
        return "".join(parts).encode("ascii", "xmlcharrefreplace")


_DATES = (datetime.date, datetime.datetime, datetime.time)


def _cell_xml(cell, ref: str, s: str, value: Any, epoch: datetime.datetime,  # noqa: ANN001
              iso_dates: bool) -> str | None:
    """The cell's element as openpyxl writes it, or None for a cell openpyxl must write itself."""
    kind = cell.data_type
    if value is None or value == "":
        t = "inlineStr" if kind == "s" else "" if kind == "f" else kind
        return f'<c r="{ref}"{s}{f" t={chr(34)}{t}{chr(34)}" if t else ""}></c>'
    kind_of = type(value)
    if kind == "s":
        if kind_of is not str or _XML_INVALID.search(value):
            return None
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'
    if kind == "n" or kind == "b":
        if kind_of is not int and kind_of is not float and kind_of is not bool:
            return None
        return f'<c r="{ref}"{s} t="{kind}"><v>{_number(value)}</v></c>'
    if kind == "d":
        if iso_dates or kind_of not in _DATES or getattr(value, "tzinfo", None) is not None:
            return None
        return f'<c r="{ref}"{s} t="n"><v>{_number(to_excel(value, epoch))}</v></c>'
    if kind == "f":
        if kind_of is not str or _XML_INVALID.search(value):
            return None
        return f'<c r="{ref}"{s}><f>{_text(value[1:])}</f><v></v></c>'
    if kind == "e":
        if kind_of is not str or _XML_INVALID.search(value):
            return None
        return f'<c r="{ref}"{s} t="e"><v>{_text(value)}</v></c>'
    return None


def _openpyxl_cell(cell, styled: bool) -> str:  # noqa: ANN001
    """The cell as openpyxl's own cell writer writes it (its errors, for what it refuses, included)."""
    out = BytesIO()
    with xmlfile(out) as xf:
        lxml_write_cell(xf, cell.parent, cell, styled)
    return out.getvalue().decode("ascii")
