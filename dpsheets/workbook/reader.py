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

from dpsheets.config import Config, header_aliases
from dpsheets.errors import DpsheetsError
from dpsheets.rules.grading import ALLOWED
from dpsheets.rules.problems import Problem, make
from dpsheets.workbook import normalize as nz
from dpsheets.workbook.bounds import Extent, check_extents, measure
from dpsheets.workbook.headers import (
    HEADER_SCAN_ROWS,
    Aliases,
    Column,
    expected_headers,
    find_layout,
    index_for,
    recognise,
    table_end,
)
from dpsheets.workbook.headers import Layout as HeaderLayout
from dpsheets.workbook.layout import Layout, read_layout, sheet_names
from dpsheets.workbook.model import Record, Rewrite, SheetData, WorkbookData
from dpsheets.workbook.registers import (
    HAZARD,
    META_NOT_CONVERTED,
    META_SHEET,
    POST,
    REGISTERS,
    RISK,
    TEMPLATE_ID,
    TEMPLATE_VERSION,
    Field,
    FieldType,
    Register,
    column_letter,
)
from dpsheets.workbook.sniff import sniff
from dpsheets.workbook.values import infer_hazard_status, resolve_relative, rewrite_problems

SKIPPED_SHEETS = (META_SHEET, "检查结果", "填表说明", "选项", "转换说明", *sheet_names())
SHEET_NAMES: dict[str, Register] = {
    nz.header_key(name): r for r in REGISTERS for name in (r.sheet, *r.sheet_aliases)
}
REWRITE, RELATIVE = "rewrite", "relative"  # coercion outcomes that are not problems


def read_workbook(path: str | Path, config: Config | None = None) -> WorkbookData:
    """Read the standard workbook, or a register as enterprises keep it, at *path*.

    Raises :class:`DpsheetsError` if unreadable or not a register at all. No input can take the
    process down: every sheet of an .xlsx is measured from its XML before python-calamine reads it
    densely (see :mod:`dpsheets.workbook.bounds`), and a panic inside calamine (a ``BaseException``)
    becomes a :class:`DpsheetsError` like any damage. An .xls has no XML to measure: its sheets are
    held to the row limit by their height.
    """
    config = config or Config()
    path = Path(path)
    kind = sniff(path, config.max_file_mb)
    extents = _measure(path, config) if kind == "xlsx" else None
    wb = _open(path)
    try:
        data = _read(wb, path, config, extents)
    except DpsheetsError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - calamine panics (pyo3 PanicException) are BaseExceptions
        raise _calamine_error(exc, path) from exc
    finally:
        wb.close()
    if kind == "xls":
        data.problems.insert(0, make("workbook.xls"))
    return data


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
                extents: dict[str, Extent] | None) -> tuple[list[list[Any]], list[Any]]:
    """The sheet's cells as a dense grid, after its measured extent proved that safe."""
    if extents is None:  # an .xls: calamine knows its height without reading the cells
        return _xls_rows(wb, name, path, config)
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


def _xls_rows(wb: pc.CalamineWorkbook, name: str, path: Path, config: Config) -> tuple[list[list[Any]], list[Any]]:
    try:
        sheet = wb.get_sheet_by_name(name)
        if sheet.height > config.max_rows:
            raise DpsheetsError("workbook.too-many-rows",
                                f"“{name}”有 {sheet.height} 行，超过上限 {config.max_rows} 行。请删除表格下方的空行或无关数据后再提交。",
                                path=str(path))
        return sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges or []
    except (DpsheetsError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - see read_workbook
        raise _calamine_error(exc, path, name) from exc


def _read(wb: pc.CalamineWorkbook, path: Path, config: Config, extents: dict[str, Extent] | None) -> WorkbookData:
    problems: list[Problem] = []
    names = wb.sheet_names
    aliases = header_aliases(config) or None
    found = _match_sheets(names)
    loaded: dict[str, tuple[list[list[Any]], list[Any]]] = {}
    recognised: dict[str, str] = {}
    if len(found) < len(REGISTERS):
        # Sheets not named as a register may still be one: recognise them by their header rows.
        named = {n for ns in found.values() for n in ns}
        others = [n for n in names if n not in named and n not in SKIPPED_SHEETS and not n.startswith("_")]
        for name in others:
            loaded[name] = _dense_rows(wb, name, path, config, extents)
        wanted = [r for r in REGISTERS if r not in found]
        for register, matched in recognise({n: loaded[n][0] for n in others}, wanted, aliases).items():
            found[register] = matched
            recognised.update({n: register.sheet for n in matched})
    if not any(r.core for r in found):
        raise _not_a_register(path, names, {n: rows for n, (rows, _) in loaded.items()})
    version, meta = _template_version(wb, names, path, problems, config, extents, recognised)
    not_converted = set(meta.get(META_NOT_CONVERTED, "").split(",")) - {""}
    sheets: dict[str, SheetData] = {}
    missing: list[Register] = []
    for register in REGISTERS:
        in_sheets = found.get(register)
        if not in_sheets:
            if version is not None:
                code = "sheet.missing" if register.core else "sheet.missing-ledger"
                problems.append(make(code, sheet=register.sheet))
            missing.append(register)
            sheets[register.key] = SheetData(register, register.sheet, 0, present=False)
            continue
        parts = []
        for name in in_sheets:
            rows, merged = loaded.pop(name) if name in loaded else _dense_rows(wb, name, path, config, extents)
            _fill_merged(rows, merged)
            if register.key_value:
                parts.append(_read_key_value(register, name, rows, problems, aliases))
            else:
                parts.append(_read_table(register, name, rows, problems, aliases, real=version is None))
        sheets[register.key] = _combine(parts)
        if register.key in not_converted and _still_empty(sheets[register.key]):
            missing.append(register)  # converted from registers that lacked it, and not filled in since
            sheets[register.key] = SheetData(register, register.sheet, 0, present=False)
    if missing and (version is None or not_converted):
        present = [r.sheet for r in REGISTERS if r not in missing]
        problems.append(make("registers.missing", found="“" + "”“".join(present) + "”",
                             missing="“" + "”“".join(r.sheet for r in missing) + "”"))
    data = WorkbookData(path, version, sheets, problems, _layout(wb, names, path, config, extents))
    data.recognised = recognised
    return data


def _still_empty(sheet: SheetData) -> bool:
    return all(all(v is None for v in r.values.values()) and not r.invalid for r in sheet.records)


LAYOUT_NAMES = {nz.header_key(n) for n in sheet_names()}


def _layout(wb: pc.CalamineWorkbook, names: list[str], path: Path, config: Config,
            extents: dict[str, Extent] | None) -> Layout | None:
    """The plant sketch on the 风险分布图 sheet, or None when the workbook has no such sheet."""
    name = next((n for n in names if nz.header_key(n) in LAYOUT_NAMES), None)
    if name is None:
        return None
    rows, merged = _dense_rows(wb, name, path, config, extents)
    return read_layout(name, rows, merged)


def _combine(parts: list[SheetData]) -> SheetData:
    """Several sheets of one register (a ledger kept month by month) read as one."""
    first = parts[0]
    for other in parts[1:]:
        first.records.extend(other.records)
        first.sources.extend(other.sources)
        first.rewrites.extend(other.rewrites)
    return first


def _not_a_register(path: Path, names: list[str], loaded: dict[str, list[list[Any]]]) -> DpsheetsError:
    shown = []
    for name in names[:8]:
        rows = loaded.get(name) or []
        first = next((r for r in rows[:HEADER_SCAN_ROWS] if sum(not nz.is_blank(c) for c in r) >= 2), None)
        heads = "、".join(nz.as_text(c) for c in (first or []) if not nz.is_blank(c))[:40]
        shown.append(f"“{name}”" + (f"（表头：{heads}）" if heads else ""))
    expected = "；".join(f"{r.sheet}——{expected_headers(r)}" for r in (RISK, HAZARD, POST))
    return DpsheetsError(
        "workbook.not-standard",
        f"这不是双重预防体系台账：工作簿中的工作表 {'、'.join(shown)} 都不像风险、隐患或岗位清单。"
        f"台账的表头应包括：{expected}。请用 `dpsheets template` 生成标准台账，或从县应急管理局下载标准模板填写。",
        path=str(path))


def _match_sheets(names: list[str]) -> dict[Register, list[str]]:
    found: dict[Register, list[str]] = {}
    for name in names:
        register = SHEET_NAMES.get(nz.header_key(name))
        if register is not None and register not in found:
            found[register] = [name]
    return found


def _template_version(wb: pc.CalamineWorkbook, names: list[str], path: Path, problems: list[Problem], config: Config,
                      extents: dict[str, Extent] | None, recognised: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    """The template version (None for a register as enterprises keep it) and the identity sheet's rows."""
    if META_SHEET not in names:
        shown = "（" + "，".join(f"“{n}”读作“{r}”" for n, r in recognised.items()) + "）" if recognised else ""
        problems.append(make("workbook.no-template-id", recognised=shown))
        return None, {}
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
    return version, meta


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


def _read_table(register: Register, name: str, rows: list[list[Any]], problems: list[Problem],
                aliases: Aliases | None = None, real: bool = True) -> SheetData:
    """One register sheet. *real*: a register as enterprises keep it (not the standard template), whose
    hazards without a state are read as closed when the row shows their closure."""
    layout = find_layout(index_for(register, aliases), rows)
    if layout is None:
        if any(any(not nz.is_blank(c) for c in row) for row in rows):
            for f in register.fields:
                if f.required:
                    problems.append(make("header.missing", sheet=name, row=1, column=f.header))
        return SheetData(register, name, 0)
    header_row = layout.header_row + 1
    mapped, parts = layout.mapped(), layout.parts()
    _header_problems(register, name, layout, header_row, problems)
    columns = {key: col.letter for key, col in mapped.items()}
    for key, cols in parts.items():
        columns.setdefault(key, cols[0].letter)
    body = rows[layout.first_data:]
    end = table_end(body)
    content = [i for i in range(end) if any(body[i])]  # calamine gives "" for an empty cell
    values = {i: dict.fromkeys(register.by_key) for i in content}
    invalid: dict[int, dict[str, Any]] = {}
    first_row = layout.first_data + 1
    pending: list[tuple[int, Field, Any]] = []
    raw: list[tuple[int, Field, str, Any, Any]] = []  # (row index, field, letter, original, typed) rewritten
    for key, col in mapped.items():
        _read_column(register[key], col.index, col.letter, body, content, first_row, values, invalid, name,
                     problems, pending, raw)
    for key, cols in parts.items():
        _read_parts(register[key], cols, mapped.get(key), body, content, values)
    sheet = SheetData(register, name, header_row, columns, sources=[(name, layout)])
    sheet.rewrites.extend(Rewrite(name, first_row + i, f"{letter}{first_row + i}", f.key, f.header, nz.as_text(v),
                                  nz.as_text(t), "value") for i, f, letter, v, t in raw)
    for key, (text, r, c) in layout.preamble.items():
        typed, problem = coerce(register[key], text)
        if problem in (None, REWRITE):
            for i in content:
                if values[i][key] is None:
                    values[i][key] = typed
            sheet.rewrites.append(Rewrite(name, r + 1, f"{column_letter(c)}{r + 1}", key, register[key].header, text,
                                          nz.as_text(typed), "preamble"))
    if pending:
        resolve_relative(register, name, first_row, pending, values, invalid, columns, sheet.rewrites)
    records = [Record(name, first_row + i, values[i], invalid.get(i, {}), columns) for i in content]
    sheet.records = [r for r in records if not r.is_blank()]
    if register.key == "hazard" and real:
        infer_hazard_status(sheet.records, sheet.rewrites)
    problems.extend(rewrite_problems(sheet.rewrites))
    return sheet


def _header_problems(register: Register, name: str, layout: HeaderLayout, header_row: int, problems: list[Problem]) -> None:
    for col in layout.columns:
        if col.key is not None:
            continue
        cell = f"{col.letter}{header_row}"
        if col.duplicate_of:
            problems.append(make("header.duplicate", sheet=name, row=header_row, column=col.duplicate_of, cell=cell))
        elif not col.reason.startswith(("序号", "图片")):
            hint = f"它可能是“{col.hint}”：如是，请把列名改为“{col.hint}”。" if col.hint else "如是笔误，请改为标准列名。"
            problems.append(make("header.unknown", sheet=name, row=header_row, column=col.header, cell=cell, hint=hint))
    have = set(layout.mapped()) | set(layout.parts()) | set(layout.preamble)
    # A risk's level may be left out when its factors give it (as each row may leave it blank: rules/checks.py).
    graded = register is RISK and any(set(factors) <= have for factors in ALLOWED.values())
    for f in register.fields:
        if f.required and f.key not in have and not (graded and f.key == "level"):
            problems.append(make("header.missing", sheet=name, row=header_row, column=f.header))


def _read_column(f: Field, c: int, letter: str, body: list[list[Any]], content: list[int],
                 first_row: int, values: dict[int, dict[str, Any]], invalid: dict[int, dict[str, Any]], sheet: str,
                 problems: list[Problem], pending: list[tuple[int, Field, Any]],
                 raw: list[tuple[int, Field, str, Any, Any]]) -> None:
    """Coerce one column of the data rows (column-wise: one field type, one coercer, a tight loop)."""
    key, coerce_, plain_text = f.key, _COERCE[f.type], f.type is FieldType.TEXT
    for i in content:
        v = body[i][c]
        if v == "" or v is None:
            continue
        if type(v) is str:
            stripped = v.strip()
            if not stripped:
                continue
            if not stripped.isprintable() and nz.CONTROL_CHARS.search(stripped):
                _control_chars(f, stripped, sheet, first_row + i, f"{letter}{first_row + i}", problems)
            if plain_text:
                values[i][key] = stripped
                continue
        typed, problem = coerce_(f, v)
        if problem:
            if problem == REWRITE:
                raw.append((i, f, letter, v, typed))
            elif problem == RELATIVE:
                pending.append((i, f, v))
                continue
            else:
                problems.append(make(problem, sheet=sheet, row=first_row + i, column=f.header,
                                     cell=f"{letter}{first_row + i}", value=nz.as_text(v), choices="、".join(f.choices)))
                invalid.setdefault(i, {})[key] = v
        values[i][key] = typed


def _control_chars(f: Field, text: str, sheet: str, row: int, cell: str, problems: list[Problem]) -> None:
    """A cell holding characters no workbook may store (``_x000B_``): a problem of that cell."""
    shown = "".join(sorted({nz.visible(ch) for ch in nz.CONTROL_CHARS.findall(text)}))
    problems.append(make("field.control-char", sheet=sheet, row=row, column=f.header, cell=cell, value=shown))


def _read_parts(f: Field, cols: list[Column], main: Column | None, body: list[list[Any]], content: list[int],
                values: dict[int, dict[str, Any]]) -> None:
    """Sub-columns under one group header read as one text: “工程技术措施：…；管理措施：…”."""
    for i in content:
        row = body[i]
        texts = [values[i][f.key]] if main is not None and values[i][f.key] else []
        for col in cols:
            v = row[col.index] if col.index < len(row) else ""
            if not nz.is_blank(v):
                texts.append(f"{col.part}：{nz.as_text(v)}")
        if texts:
            values[i][f.key] = "；".join(texts)


def _read_key_value(register: Register, name: str, rows: list[list[Any]], problems: list[Problem],
                    aliases: Aliases | None = None) -> SheetData:
    """企业信息: a label in one cell, its value in the next non-blank cell to the right."""
    index = index_for(register, aliases)
    values: dict[str, Any] = dict.fromkeys(register.by_key)
    invalid: dict[str, Any] = {}
    columns: dict[str, str] = {}
    rows_of: dict[str, int] = {}
    for r, row in enumerate(rows):
        label_col = next((c for c, v in enumerate(row) if not nz.is_blank(v)), None)
        if label_col is None:
            continue
        kind, fs = index.lookup(row[label_col])
        if kind not in ("exact", "alias") or fs[0].key in columns:
            continue
        f = fs[0]
        value_col = next((c for c in range(label_col + 1, len(row)) if not nz.is_blank(row[c])), label_col + 1)
        columns[f.key], rows_of[f.key] = column_letter(value_col), r + 1
        v = row[value_col] if value_col < len(row) else ""
        if nz.is_blank(v):
            continue
        if type(v) is str and not v.isprintable() and nz.CONTROL_CHARS.search(v):
            _control_chars(f, v, name, r + 1, f"{columns[f.key]}{r + 1}", problems)
        typed, problem = _COERCE[f.type](f, v)
        if problem and problem not in (REWRITE, RELATIVE):
            problems.append(make(problem, sheet=name, row=r + 1, column=f.header, cell=f"{columns[f.key]}{r + 1}",
                                 value=nz.as_text(v), choices="、".join(f.choices)))
            invalid[f.key] = v
        values[f.key] = typed if problem != RELATIVE else None
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
    if d:
        return d, None
    if f.relative_to:
        days = nz.parse_relative_days(v)
        if days is not None:
            return days, RELATIVE  # resolved against the row's other date once the row is read
    return None, "field.date"


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


_ALIAS_CACHE: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}


def _alias_index(f: Field) -> dict[str, str]:
    index = _ALIAS_CACHE.get(f.value_aliases)
    if index is None:
        index = _ALIAS_CACHE.setdefault(f.value_aliases, {nz.fold_choice(a): c for a, c in f.value_aliases})
    return index


def _choice(f: Field, v: Any) -> Coerced:
    if v in f.choices:
        return v, None
    index = _CHOICE_CACHE.get(f.choices) or _CHOICE_CACHE.setdefault(f.choices, _choice_index(f))
    key = nz.fold_choice(nz.as_text(v))
    found = index.get(key)
    if found:
        return found, None
    if f.value_aliases:
        aliases = _alias_index(f)
        found = aliases.get(key) or aliases.get(_BRACKETS.sub("", key)) or index.get(_BRACKETS.sub("", key))
        if found:
            return found, REWRITE
    return None, "field.choice"


_BRACKETS = re.compile(r"\(.*?\)")


def _multi(f: Field, v: Any) -> Coerced:
    index = _CHOICE_CACHE.get(f.choices) or _CHOICE_CACHE.setdefault(f.choices, _choice_index(f))
    parts = nz.split_list(nz.as_text(v))
    found = [index.get(nz.fold_choice(p)) for p in parts]
    if found and None not in found:
        return tuple(found), None
    if f.value_aliases and found:
        aliases = _alias_index(f)
        found = [x or aliases.get(nz.fold_choice(p)) for x, p in zip(found, parts, strict=True)]
        if None not in found:
            return tuple(dict.fromkeys(found)), REWRITE
    return None, "field.choice"


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


def coerce(f: Field, v: Any) -> Coerced:
    """(typed value, None | "rewrite" | "relative" | a problem code) for one cell value of field *f*."""
    return _COERCE[f.type](f, v)
