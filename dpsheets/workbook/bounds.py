"""The true extent of every sheet, read from its XML before any library reads it densely.

python-calamine turns a sheet into a dense grid from A1 to its farthest filled cell, so one
cell at ``XFD1048576`` asks for hundreds of gigabytes and aborts the process; openpyxl makes
an object for every cell of a merged range, so ``A1:XFD1048576`` never finishes. Neither
can be caught afterwards. Here each worksheet part is streamed through a few regular
expressions (``<dimension ref>`` is written by the sender and proves nothing): the farthest
cell that holds a value, and the size of the merged ranges. A sheet too large for a ledger
is refused with a message naming the cell; everything else is then safe to read.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from dpsheets.errors import DpsheetsError

MAX_CELLS = 5_000_000  # rows × columns of one dense sheet (≈ 200 MB while read)
MAX_MERGED_CELLS = 500_000  # cells covered by the merged ranges of one sheet
CHUNK = 1 << 20

_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*)>")
_REF = re.compile(rb'\br="([A-Za-z]{1,3})([0-9]{1,7})"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Za-z]{1,3})([0-9]{1,7})(?::([A-Za-z]{1,3})([0-9]{1,7}))?"')
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")
_ROW_R = re.compile(rb'<row r="([0-9]{1,7})"')
_TWO_LETTERS = re.compile(rb'<c r="([A-Z]{2})')


@dataclass(frozen=True)
class Extent:
    """The farthest cell holding a value (1-based; 0 for an empty sheet) and the merged area."""

    rows: int = 0
    columns: int = 0
    lowest_cell: str = ""  # a cell in the last row
    rightmost_cell: str = ""  # a cell in the last column
    merged_cells: int = 0
    widest_merge: str = ""

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    @property
    def far_cell(self) -> str:
        """The cell that makes the sheet so large: the rightmost when the sheet is very wide."""
        return self.rightmost_cell if self.columns > 256 or not self.lowest_cell else self.lowest_cell


def column_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → worksheet part path inside the zip, from workbook.xml and its relationships."""
    try:
        book = z.read("xl/workbook.xml")
        rels = z.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for m in _REL.finditer(rels):
        attrs = dict(_ATTR.findall(m.group(1)))
        if b"Id" in attrs and b"Target" in attrs:
            target = attrs[b"Target"].decode()
            targets[attrs[b"Id"]] = (target.lstrip("/") if target.startswith("/")
                                     else posixpath.normpath(posixpath.join("xl", target)))
    out = {}
    for m in _SHEET.finditer(book):
        attrs = dict(_ATTR.findall(m.group(1)))
        rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        if b"name" in attrs and rid in targets:
            out[_unescape(attrs[b"name"].decode("utf-8", "replace"))] = targets[rid]
    return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def extent_of(z: zipfile.ZipFile, part: str, max_rows: int = 1 << 20) -> Extent:
    """Measure one worksheet part: a quick upper bound, made exact only when it exceeds a limit."""
    quick = _quick_extent(z, part)
    if quick is not None and quick.rows <= max_rows and quick.cells <= MAX_CELLS:
        return quick
    return _exact_extent(z, part)


def _chunks(z: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The part's XML in pieces that each end before a ``<``, so no tag is ever cut in two."""
    with z.open(part) as f:
        carry = b""
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                if carry:
                    yield carry
                return
            buf = carry + chunk
            cut = buf.rfind(b"<")
            if cut <= 0:
                carry = buf
                continue
            yield buf[:cut]
            carry = buf[cut:]


def _quick_extent(z: zipfile.ZipFile, part: str) -> Extent | None:
    """Upper bounds from C-speed scans (rows from ``<row r>``, columns from the distinct letters),
    or None when the XML is unusual (cells without a leading ``r``, columns beyond ZZ, a cell
    below every row tag) and must be measured exactly."""
    rows = cols = merged = widest = 0
    widest_ref = ""
    tail_seen = False  # merged ranges follow the cells
    for i, buf in enumerate(_chunks(z, part)):
        if i == 0 and b"<sheetData" not in buf and b":sheetData" in buf:
            return None  # namespace prefixes on every tag
        found = _ROW_R.findall(buf)
        if found:
            rows = max(rows, max(map(int, found)))
        if b"<c>" in buf or b"<c/>" in buf or buf.count(b"<c ") != buf.count(b'<c r="'):
            return None  # a cell whose first attribute is not its reference
        if re.search(rb'<c r="(?:[A-Z]{3}|[A-Z]{1,2}[0-9]{%d})' % (len(str(rows)) + 1), buf):
            return None  # beyond column ZZ, or below every row tag
        letters = set(_TWO_LETTERS.findall(buf))
        if letters:
            cols = max(cols, max(column_number(c) for c in letters))
        elif b'<c r="' in buf:
            cols = max(cols, 26)
        tail = buf.rfind(b"</sheetData>") if not tail_seen else 0
        if tail >= 0:
            tail_seen = True
            merged, widest, widest_ref = _merges(buf, merged, widest, widest_ref, tail)
    if rows:  # a cell may sit below the last row tag within the same number of digits
        rows = 10 ** len(str(rows)) - 1
    return Extent(rows, cols, "", "", merged, widest_ref)


def _merges(buf: bytes, merged: int, widest: int, widest_ref: str, start: int = 0) -> tuple[int, int, str]:
    for m in _MERGE.finditer(buf, start):
        c0, r0 = column_number(m.group(1)), int(m.group(2))
        c1, r1 = (column_number(m.group(3)), int(m.group(4))) if m.group(3) else (c0, r0)
        area = (abs(r1 - r0) + 1) * (abs(c1 - c0) + 1)
        merged += area
        if area > widest:
            widest, widest_ref = area, m.group(0).split(b'ref="')[1].rstrip(b'"').decode()
    return merged, widest, widest_ref


def _exact_extent(z: zipfile.ZipFile, part: str) -> Extent:
    """Every cell that holds a value, one by one."""
    rows = cols = merged = widest = 0
    lowest: bytes = b""
    rightmost: bytes = b""
    widest_ref = ""
    implicit = False  # a cell without r="…" (some writers): positions must be counted
    for buf in _chunks(z, part):
        for m in _CELL.finditer(buf):
            attrs = m.group(1)
            if attrs.endswith(b"/"):
                continue  # an empty (perhaps formatted) cell: no value, readers skip it
            ref = _REF.search(attrs)
            if ref is None:
                implicit = True
                continue
            c, r = column_number(ref.group(1)), int(ref.group(2))
            if r > rows:
                rows, lowest = r, ref.group(0)
            if c > cols:
                cols, rightmost = c, ref.group(0)
        merged, widest, widest_ref = _merges(buf, merged, widest, widest_ref)
    if implicit:
        rows, cols = _counted_extent(z, part)
        corner = f"{column_letters(cols)}{rows}" if rows else ""
        return Extent(rows, cols, corner, corner, merged, widest_ref)
    return Extent(rows, cols, _ref_text(lowest), _ref_text(rightmost), merged, widest_ref)


def _ref_text(attr: bytes | str) -> str:
    """``r="XFD7"`` → ``XFD7``."""
    if not attr:
        return ""
    text = attr.decode() if isinstance(attr, bytes) else attr
    return text.split('"')[1].upper()


def _counted_extent(z: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """Positions the way readers assign them when ``r`` is missing: the next row, the next column."""
    rows = cols = row = 0
    with z.open(part) as f:
        for _event, el in ElementTree.iterparse(f, events=("end",)):
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "row":
                r = el.get("r")
                row = int(r) if r and r.isdigit() else row + 1
                col = 0
                for c in el:
                    if c.tag.rsplit("}", 1)[-1] != "c":
                        continue
                    ref = c.get("r")
                    m = re.fullmatch(r"([A-Za-z]{1,3})([0-9]{1,7})", ref or "")
                    col = column_number(m.group(1)) if m else col + 1
                    if len(c):
                        rows, cols = max(rows, row), max(cols, col)
                el.clear()
    return rows, cols


def measure(path: Path, max_rows: int = 1 << 20) -> dict[str, Extent]:
    """The extent of every worksheet of the .xlsx at *path*, by sheet name."""
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        return {name: extent_of(z, part, max_rows) for name, part in sheet_parts(z).items() if part in names}


def check_extents(path: Path, extents: dict[str, Extent], max_rows: int) -> None:
    """Refuse a workbook whose sheets are too large to read safely, naming the sheet and cell."""
    for name, e in extents.items():
        if e.rows > max_rows:
            raise DpsheetsError(
                "workbook.too-many-rows",
                f"“{name}”的单元格 {e.lowest_cell} 有内容，在第 {e.rows} 行，超过上限 {max_rows} 行。"
                "请删除表格下方的空行或无关数据（选中整行后“删除”，而不是只清除内容）后再提交。",
                path=str(path))
        if e.cells > MAX_CELLS:
            raise DpsheetsError(
                "workbook.too-large-sheet",
                f"“{name}”的单元格 {e.far_cell} 有内容，使表格范围达到 {e.rows} 行 × {e.columns} 列，远超台账的大小，无法安全读取。"
                f"请删除 {e.far_cell} 等远处的单元格（选中整列或整行后“删除”）后再提交。",
                path=str(path))
        if e.merged_cells > MAX_MERGED_CELLS:
            raise DpsheetsError(
                "workbook.too-large-merge",
                f"“{name}”有合并范围过大的单元格（如 {e.widest_merge}，共合并 {e.merged_cells} 格），无法安全读取。"
                "请取消这些单元格的合并后再提交。",
                path=str(path))
