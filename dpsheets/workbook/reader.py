"""Reading a workbook with python-calamine into typed records that remember their cells.

Tolerates what real workbooks contain: title rows above the header, columns in any
order, extra columns, alternative headers, blank rows, vertically merged cells,
full-width characters, numbers stored as text and dates in several spellings. Problems
with single cells (a date that is not a date) are collected, not raised; a file that
cannot be read at all raises :class:`DpsheetsError`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import python_calamine as pc

from dpsheets.config import Config
from dpsheets.errors import DpsheetsError
from dpsheets.rules.problems import Problem, make
from dpsheets.workbook import normalize as nz
from dpsheets.workbook.bounds import Extent, check_extents, measure
from dpsheets.workbook.layout import Layout, read_layout, sheet_names
from dpsheets.workbook.model import Record, SheetData, WorkbookData
from dpsheets.workbook.registers import (
    META_SHEET,
    REGISTERS,
    TEMPLATE_ID,
    TEMPLATE_VERSION,
    Field,
    FieldType,
    Register,
    column_letter,
)
from dpsheets.workbook.sniff import sniff

HEADER_SCAN_ROWS = 15

# header text (folded) → field, per register; built once from the declarations
HEADER_MAPS: dict[str, dict[str, Field]] = {
    r.key: {key: f for f in r.fields for name in (f.header, *f.aliases) for key in (name, nz.header_key(name))}
    for r in REGISTERS
}
SHEET_NAMES: dict[str, Register] = {
    nz.header_key(name): r for r in REGISTERS for name in (r.sheet, *r.sheet_aliases)
}


def read_workbook(path: str | Path, config: Config | None = None) -> WorkbookData:
    """Read the standard workbook at *path*. Raises :class:`DpsheetsError` if unreadable.

    No input can take the process down: every sheet is measured from its XML before
    python-calamine reads it densely (see :mod:`dpsheets.workbook.bounds`), and a panic
    inside calamine (a ``BaseException``) becomes a :class:`DpsheetsError` like any damage.
    """
    config = config or Config()
    path = Path(path)
    sniff(path, config.max_file_mb)
    extents = _measure(path, config)
    wb = _open(path)
    try:
        return _read(wb, path, config, extents)
    except DpsheetsError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - calamine panics (pyo3 PanicException) are BaseExceptions
        raise _calamine_error(exc, path) from exc
    finally:
        wb.close()


def _measure(path: Path, config: Config) -> dict[str, Extent]:
    try:
        extents = measure(path, config.max_rows)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, ElementTree.ParseError, RuntimeError) as exc:
        raise _calamine_error(exc, path) from exc
    for name, e in extents.items():  # openpyxl (the highlighted copy) materialises every merged cell of every sheet
        check_extents(path, {name: Extent(merged_cells=e.merged_cells, widest_merge=e.widest_merge)}, 1)
    return extents


def _open(path: Path) -> pc.CalamineWorkbook:
    try:
        return pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError as exc:
        raise DpsheetsError("file.encrypted", "工作簿设置了密码，无法读取。请清除密码后提交。", path=str(path)) from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - calamine raises several unrelated types, and panics
        raise _calamine_error(exc, path) from exc


def _calamine_error(exc: BaseException, path: Path, sheet: str | None = None) -> DpsheetsError:
    where = f"“{sheet}”表中有无法读取的内容（例如超出范围的日期数值），" if sheet else "工作簿内容已损坏，"
    return DpsheetsError("file.corrupt", f"{where}无法读取（{type(exc).__name__}）。请用 Excel 打开后“另存为”新的 .xlsx 文件再提交。",
                         path=str(path))


def _dense_rows(wb: pc.CalamineWorkbook, name: str, path: Path, config: Config,
                extents: dict[str, Extent]) -> tuple[list[list[Any]], list[Any]]:
    """The sheet's cells as a dense grid, after its measured extent proved that safe."""
    extent = extents.get(name)
    if extent is None:  # calamine knows a sheet the XML scan did not find: refuse rather than guess
        raise DpsheetsError("file.corrupt", f"“{name}”表的结构无法识别。请用 Excel 打开后“另存为”新的 .xlsx 文件再提交。",
                            path=str(path))
    check_extents(path, {name: extent}, config.max_rows)
    try:
        sheet = wb.get_sheet_by_name(name)
        return sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges or []
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - see read_workbook
        raise _calamine_error(exc, path, name) from exc


def _read(wb: pc.CalamineWorkbook, path: Path, config: Config, extents: dict[str, Extent]) -> WorkbookData:
    problems: list[Problem] = []
    names = wb.sheet_names
    found = _match_sheets(names)
    if not any(r.core for r in found):
        raise DpsheetsError(
            "workbook.not-standard",
            "这不是双重预防体系标准台账：没有找到“企业信息”“风险管控清单”“隐患排查治理清单”“岗位安全责任清单”中的任何一张表。"
            "请用 `dpsheets template` 生成标准台账，或从县应急管理局下载标准模板填写。",
            path=str(path))
    version = _template_version(wb, names, path, problems, config, extents)
    sheets: dict[str, SheetData] = {}
    for register in REGISTERS:
        name = found.get(register)
        if name is None:
            code = "sheet.missing" if register.core else "sheet.missing-ledger"
            problems.append(make(code, sheet=register.sheet))
            sheets[register.key] = SheetData(register, register.sheet, 0, present=False)
            continue
        rows, merged = _dense_rows(wb, name, path, config, extents)
        _fill_merged(rows, merged)
        reader = _read_key_value if register.key_value else _read_table
        sheets[register.key] = reader(register, name, rows, problems)
    return WorkbookData(path, version, sheets, problems, _layout(wb, names, path, config, extents))


LAYOUT_NAMES = {nz.header_key(n) for n in sheet_names()}


def _layout(wb: pc.CalamineWorkbook, names: list[str], path: Path, config: Config,
            extents: dict[str, Extent]) -> Layout | None:
    """The plant sketch on the 风险分布图 sheet, or None when the workbook has no such sheet."""
    name = next((n for n in names if nz.header_key(n) in LAYOUT_NAMES), None)
    if name is None:
        return None
    rows, merged = _dense_rows(wb, name, path, config, extents)
    return read_layout(name, rows, merged)


def _match_sheets(names: list[str]) -> dict[Register, str]:
    found: dict[Register, str] = {}
    for name in names:
        register = SHEET_NAMES.get(nz.header_key(name))
        if register is not None and register not in found:
            found[register] = name
    return found


def _template_version(wb: pc.CalamineWorkbook, names: list[str], path: Path, problems: list[Problem], config: Config,
                      extents: dict[str, Extent]) -> str | None:
    if META_SHEET not in names:
        problems.append(make("workbook.no-template-id"))
        return None
    meta_rows, _merged = _dense_rows(wb, META_SHEET, path, config, extents)
    meta = {nz.as_text(r[0]): nz.as_text(r[1]) for r in meta_rows if len(r) >= 2}
    template_id, version = meta.get("template_id", ""), meta.get("version", "")
    if template_id != TEMPLATE_ID:
        raise DpsheetsError("workbook.wrong-template",
                            f"这是其他系统的模板（{template_id or '未知'}），不是双重预防体系标准台账。请用 `dpsheets template` 生成标准台账后填写。",
                            path=str(path))
    if version.split(".")[0] != TEMPLATE_VERSION.split(".")[0]:
        raise DpsheetsError("workbook.incompatible-template",
                            f"台账模板版本 {version} 与当前版本 {TEMPLATE_VERSION} 不兼容。请用 `dpsheets template` 生成新版台账，把数据复制过去。",
                            path=str(path))
    if version != TEMPLATE_VERSION:
        problems.append(make("workbook.old-template", found=version, expected=TEMPLATE_VERSION))
    return version


def _fill_merged(rows: list[list[Any]], ranges: list[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    """Copy a merged cell's value into the cells it spans (a 车间 spanning its posts)."""
    for (r0, c0), (r1, c1) in ranges:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                if (r, c) != (r0, c0):
                    row[c] = value


def _find_header(register: Register, rows: list[list[Any]]) -> tuple[int, int]:
    """(0-based header row, number of matched headers): the first row that matches at least two
    headers and matches more than the row below it, else the best of the first rows."""
    best, best_score, previous = -1, 0, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = _header_score(register, row)
        if previous >= 2 and score < previous:
            return i - 1, previous
        if score > best_score:
            best, best_score = i, score
        previous = score
    return best, best_score


def _header_score(register: Register, row: list[Any]) -> int:
    header_map = HEADER_MAPS[register.key]
    found = set()
    for cell in row:
        if isinstance(cell, str) and cell:
            f = header_map.get(cell) or header_map.get(nz.header_key(cell))
            if f is not None:
                found.add(f.key)
    return len(found)


def _read_table(register: Register, name: str, rows: list[list[Any]], problems: list[Problem]) -> SheetData:
    header_index, score = _find_header(register, rows)
    if header_index < 0:
        if any(any(not nz.is_blank(c) for c in row) for row in rows):
            for f in register.fields:
                if f.required:
                    problems.append(make("header.missing", sheet=name, row=1, column=f.header))
        return SheetData(register, name, 0)
    header_row = header_index + 1
    columns, index_of = _map_columns(register, name, rows[header_index], header_row, problems)
    body = rows[header_index + 1:]
    content = [i for i, row in enumerate(body) if any(row)]  # calamine gives "" for an empty cell
    values = {i: dict.fromkeys(register.by_key) for i in content}
    invalid: dict[int, dict[str, Any]] = {}
    for f in register.fields:
        if f.key in index_of:
            _read_column(f, index_of[f.key], columns[f.key], body, content, header_index + 2, values, invalid, name,
                         problems)
    records = [Record(name, header_index + 2 + i, values[i], invalid.get(i, {}), columns) for i in content]
    records = [r for r in records if not r.is_blank()]
    return SheetData(register, name, header_row, columns, records)


def _read_column(f: Field, c: int, letter: str, body: list[list[Any]], content: list[int],
                 first_row: int, values: dict[int, dict[str, Any]], invalid: dict[int, dict[str, Any]], sheet: str,
                 problems: list[Problem]) -> None:
    """Coerce one column of the data rows (column-wise: one field type, one coercer, a tight loop)."""
    key, coerce, plain_text = f.key, _COERCE[f.type], f.type is FieldType.TEXT
    for i in content:
        v = body[i][c]
        if v == "" or v is None:
            continue
        if type(v) is str:
            stripped = v.strip()
            if not stripped:
                continue
            if not stripped.isprintable() and _CONTROL.search(stripped):
                _control_chars(f, stripped, sheet, first_row + i, f"{letter}{first_row + i}", problems)
            if plain_text:
                values[i][key] = stripped
                continue
        typed, problem = coerce(f, v)
        if problem:
            problems.append(make(problem, sheet=sheet, row=first_row + i, column=f.header, cell=f"{letter}{first_row + i}",
                                 value=nz.as_text(v), choices="、".join(f.choices)))
            invalid.setdefault(i, {})[key] = v
        values[i][key] = typed


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _control_chars(f: Field, text: str, sheet: str, row: int, cell: str, problems: list[Problem]) -> None:
    """A cell holding characters no workbook may store (``_x000B_``): a problem of that cell."""
    shown = "".join(sorted({f"\\x{ord(ch):02X}" for ch in _CONTROL.findall(text)}))
    problems.append(make("field.control-char", sheet=sheet, row=row, column=f.header, cell=cell, value=shown))


def _map_columns(register: Register, name: str, header: list[Any], header_row: int,
                 problems: list[Problem]) -> tuple[dict[str, str], dict[str, int]]:
    header_map = HEADER_MAPS[register.key]
    columns: dict[str, str] = {}
    index_of: dict[str, int] = {}
    for c, text in enumerate(header):
        if nz.is_blank(text):
            continue
        letter = column_letter(c)
        f = header_map.get(nz.header_key(text))
        if f is None:
            problems.append(make("header.unknown", sheet=name, row=header_row, column=nz.as_text(text), cell=f"{letter}{header_row}"))
        elif f.key in columns:
            problems.append(make("header.duplicate", sheet=name, row=header_row, column=f.header, cell=f"{letter}{header_row}"))
        else:
            columns[f.key], index_of[f.key] = letter, c
    for f in register.fields:
        if f.required and f.key not in columns:
            problems.append(make("header.missing", sheet=name, row=header_row, column=f.header))
    return columns, index_of


def _read_key_value(register: Register, name: str, rows: list[list[Any]], problems: list[Problem]) -> SheetData:
    """企业信息: a label in one cell, its value in the next non-blank cell to the right."""
    header_map = HEADER_MAPS[register.key]
    values: dict[str, Any] = dict.fromkeys(register.by_key)
    invalid: dict[str, Any] = {}
    columns: dict[str, str] = {}
    rows_of: dict[str, int] = {}
    for r, row in enumerate(rows):
        label_col = next((c for c, v in enumerate(row) if not nz.is_blank(v)), None)
        if label_col is None:
            continue
        f = header_map.get(nz.header_key(row[label_col]))
        if f is None or f.key in columns:
            continue
        value_col = next((c for c in range(label_col + 1, len(row)) if not nz.is_blank(row[c])), label_col + 1)
        columns[f.key], rows_of[f.key] = column_letter(value_col), r + 1
        v = row[value_col] if value_col < len(row) else ""
        if nz.is_blank(v):
            continue
        if type(v) is str and not v.isprintable() and _CONTROL.search(v):
            _control_chars(f, v, name, r + 1, f"{columns[f.key]}{r + 1}", problems)
        typed, problem = _COERCE[f.type](f, v)
        if problem:
            problems.append(make(problem, sheet=name, row=r + 1, column=f.header, cell=f"{columns[f.key]}{r + 1}",
                                 value=nz.as_text(v), choices="、".join(f.choices)))
            invalid[f.key] = v
        values[f.key] = typed
    for f in register.fields:
        if f.required and f.key not in columns:
            problems.append(make("header.missing", sheet=name, row=1, column=f.header))
    record = Record(name, 1, values, invalid, columns, rows_of)
    return SheetData(register, name, 1, columns, [record] if columns else [])


# --- coercion: (field, cell value) → (typed value or None, problem code or None) -------------

Coerced = tuple[Any, "str | None"]


def _text(f: Field, v: Any) -> Coerced:
    return (v.strip() if type(v) is str else nz.as_text(v)), None


def _date(f: Field, v: Any) -> Coerced:
    d = nz.parse_date(v)
    return (d, None) if d else (None, "field.date")


def _number(f: Field, v: Any) -> Coerced:
    n = nz.parse_number(v)
    return (n, None) if n is not None else (None, "field.number")


def _int(f: Field, v: Any) -> Coerced:
    n = nz.parse_int(v)
    if n is not None:
        return n, None
    return None, "field.integer" if nz.parse_number(v) is not None else "field.number"


def _choice_index(f: Field) -> dict[str, str]:
    return {nz.fold_choice(c): c for c in f.choices}


_CHOICE_CACHE: dict[tuple[str, ...], dict[str, str]] = {}


def _choice(f: Field, v: Any) -> Coerced:
    if v in f.choices:
        return v, None
    index = _CHOICE_CACHE.get(f.choices) or _CHOICE_CACHE.setdefault(f.choices, _choice_index(f))
    found = index.get(nz.fold_choice(nz.as_text(v)))
    return (found, None) if found else (None, "field.choice")


def _multi(f: Field, v: Any) -> Coerced:
    index = _CHOICE_CACHE.get(f.choices) or _CHOICE_CACHE.setdefault(f.choices, _choice_index(f))
    parts = nz.split_list(nz.as_text(v))
    found = [index.get(nz.fold_choice(p)) for p in parts]
    if not found or None in found:
        return None, "field.choice"
    return tuple(found), None


def _phone(f: Field, v: Any) -> Coerced:
    if type(v) is str and nz.MOBILE.match(v):
        return v, None
    text = nz.normalize_phone(v)
    return (text, None) if nz.phone_is_valid(text) else (None, "field.phone")


def _uscc(f: Field, v: Any) -> Coerced:
    return nz.normalize_uscc(v), None  # validated by the checks, which explain what is wrong


_COERCE: dict[FieldType, Callable[[Field, Any], Coerced]] = {
    FieldType.TEXT: _text, FieldType.DATE: _date, FieldType.NUMBER: _number, FieldType.INT: _int,
    FieldType.CHOICE: _choice, FieldType.MULTI: _multi, FieldType.PHONE: _phone, FieldType.USCC: _uscc,
}
