"""Recognising registers by their header rows, the way real registers write them.

A sheet is a register when its header row matches the register's headers (standard ones or the
aliases declared in :mod:`dpsheets.workbook.registers`), whatever the sheet is called. This module
finds the header row (also a two-row header whose group cell spans sub-columns), maps each
column to a field — an exact standard header always beats an alias, an ambiguous alias is decided
by the column's values — reads ``label：value`` lines above the table (风险点：车床) and finds where
the table ends (填报人： 审核人： rows and notes are not records).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dpsheets.workbook import normalize as nz
from dpsheets.workbook.registers import IGNORED_HEADERS, REGISTERS, Field, FieldType, Register, column_letter

HEADER_SCAN_ROWS = 15
MIN_RECOGNISED = 3  # distinct fields a header row must match for an unnamed sheet to count as a register
SAMPLE_ROWS = 30  # data rows looked at to decide an ambiguous or doubtful alias
_BRACKETS = re.compile(r"\(.*?\)|\[.*?\]|【.*?】")
_PAIR = re.compile(r"([^\s:：]{1,12})\s*[:：]\s*([^:：]*?)(?=\s{2,}|\s+[^\s:：]{1,12}\s*[:：]|$)")
FOOTER_LABELS = ("填报人", "填表人", "制表人", "审核人", "审批人", "批准", "批准人", "日期", "填报日期", "填表日期", "负责人",
                 "主要负责人", "编制", "编制人", "分析人", "审定人", "复核人", "记录人", "统计人", "签字", "签名", "单位负责人",
                 "安全负责人", "部门负责人")
NOTE_PREFIXES = ("注：", "注:", "注 ：", "说明：", "说明:", "备注：", "备注:", "填表说明", "附注", "注1", "注 1", "注释")
_FOOTER = re.compile(r"^(?:" + "|".join(FOOTER_LABELS) + r")\s*[（(]?[^：:]{0,6}[)）]?\s*[:：]")

Aliases = Mapping[str, Mapping[str, Sequence[str]]]  # register key → field key → extra aliases (configuration)


def fold(text: object) -> str:
    return nz.header_key(text)


@dataclass(frozen=True)
class HeaderIndex:
    """Folded header text → fields, for one register."""

    register: Register
    exact: dict[str, Field]
    alias: dict[str, tuple[Field, ...]]
    parts: dict[str, Field]
    labels: dict[str, str]  # folded part → its label as declared
    standard: list[str]  # the standard header row, in declared order (the template's own)
    part_labels: frozenset[str]  # the sub-column labels as declared
    standard_columns: tuple[Column, ...]  # that row mapped (shared: read-only once made)

    def lookup(self, text: object) -> tuple[str, tuple[Field, ...]]:
        """("exact" | "alias" | "part" | "ignored" | "", fields)."""
        key = fold(text)
        for candidate in (key, _BRACKETS.sub("", key)) if "(" in key or "[" in key or "【" in key else (key,):
            f = self.exact.get(candidate)
            if f is not None:
                return "exact", (f,)
            fs = self.alias.get(candidate)
            if fs:
                return "alias", fs
            p = self.parts.get(candidate)
            if p is not None:
                return "part", (p,)
            if candidate in _IGNORED:
                return "ignored", ()
        return "", ()

    def score(self, row: Sequence[Any]) -> int:
        """Distinct fields a row's cells name."""
        found = set()
        exact = self.exact
        for cell in row:
            if type(cell) is str and cell:
                f = exact.get(cell)
                if f is not None:
                    found.add(f.key)
                    continue
                kind, fs = self.lookup(cell)
                if fs:
                    found.add(fs[0].key)
        return len(found)


_IGNORED = frozenset(fold(h) for h in IGNORED_HEADERS)


def _freeze(extra: Aliases | None) -> tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]:
    if not extra:
        return ()
    return tuple(sorted((r, tuple(sorted((k, tuple(v)) for k, v in fs.items()))) for r, fs in extra.items()))


def index_for(register: Register, extra: Aliases | None = None) -> HeaderIndex:
    return _index(register.key, _freeze(extra))


@lru_cache(maxsize=64)
def _index(register_key: str, extra: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]) -> HeaderIndex:
    register = next(r for r in REGISTERS if r.key == register_key)
    local = dict(dict(extra).get(register_key, ()))
    exact: dict[str, Field] = {}
    for f in register.fields:
        exact[f.header] = f
        exact[fold(f.header)] = f
    alias: dict[str, list[Field]] = {}
    for f in register.fields:
        for name in (*local.get(f.key, ()), *f.aliases):
            k = fold(name)
            if k in exact:
                continue
            fields = alias.setdefault(k, [])
            if f not in fields:
                fields.append(f)
    parts = {fold(p): f for f in register.fields for p in f.parts}
    labels = {fold(p): p for f in register.fields for p in f.parts}
    return HeaderIndex(register, exact, {k: tuple(v) for k, v in alias.items()}, parts, labels,
                       [f.header for f in register.fields], frozenset(p for f in register.fields for p in f.parts),
                       tuple(Column(c, column_letter(c), f.header, key=f.key) for c, f in enumerate(register.fields)))


# --- the header row --------------------------------------------------------------------------------

@dataclass
class Column:
    """One source column: where it went (a field, or a part of one), or why it was dropped."""

    index: int
    letter: str
    header: str  # as written (a group header and its sub-header joined by “/”)
    key: str | None = None
    part: str | None = None  # label of the part, when several columns make one field
    reason: str = ""  # why it was dropped
    hint: str = ""  # the standard column it most likely means
    duplicate_of: str = ""


@dataclass
class Layout:
    """Where a register's table lies in a sheet: its header row, first data row and columns."""

    register: Register
    header_row: int  # 0-based index of the (last) header row
    first_data: int  # 0-based index of the first data row
    columns: list[Column]
    score: int
    preamble: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # key → (text, row, col), 0-based

    def mapped(self) -> dict[str, Column]:
        return {c.key: c for c in self.columns if c.key and not c.part}

    def parts(self) -> dict[str, list[Column]]:
        out: dict[str, list[Column]] = {}
        for c in self.columns:
            if c.key and c.part:
                out.setdefault(c.key, []).append(c)
        return out


def find_layout(index: HeaderIndex, rows: Sequence[Sequence[Any]]) -> Layout | None:
    """The header of *rows* read as *index*'s register, or None when no row looks like one."""
    standard = _standard_layout(index, rows)
    if standard is not None:
        return standard
    best, best_score, previous = -1, 0, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = index.score(row)
        if previous >= 2 and score < previous:
            best, best_score = i - 1, previous
            break
        if score > best_score:
            best, best_score = i, score
        previous = score
    if best < 0:
        return None
    header = [nz.as_text(c) if not nz.is_blank(c) else "" for c in rows[best]]
    shown = list(header)  # as written: a group header and its sub-header joined by “/”
    first_data = best + 1
    if first_data < len(rows) and _is_subheader(index, rows[first_data]):
        for c, text in enumerate(rows[first_data]):
            if type(text) is str and text.strip():
                if c >= len(header):
                    header.extend([""] * (c + 1 - len(header)))
                    shown.extend([""] * (c + 1 - len(shown)))
                top, sub = header[c], text.strip()
                header[c] = sub
                shown[c] = sub if not top or top == sub else f"{top}/{sub}"
        first_data += 1
    elif best > 0 and _is_group_row(index, rows[best - 1], header):
        for c, text in enumerate(rows[best - 1]):
            if type(text) is str and text.strip() and c < len(header) and header[c] and header[c] != text.strip():
                shown[c] = f"{text.strip()}/{header[c]}"
    columns = map_columns(index, header, rows[first_data:first_data + SAMPLE_ROWS], shown)
    layout = Layout(index.register, first_data - 1, first_data, columns, best_score)
    layout.preamble = _preamble(index, rows[:best], layout)
    return layout


def _standard_layout(index: HeaderIndex, rows: Sequence[Sequence[Any]]) -> Layout | None:
    """The template's own header row (every standard header, in order, nothing else) read at once: no alias,
    no sample, nothing above it to read. None when the sheet is laid out any other way."""
    standard = index.standard
    n = len(standard)
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        if row[:n] != standard:
            continue
        if any(c != "" and c is not None for c in row[n:]):
            return None  # columns of its own: mapped one by one
        below = rows[i + 1] if i + 1 < len(rows) else ()
        if index.part_labels and any(type(c) is str and c.strip() in index.part_labels for c in below):
            return None  # sub-columns under a group header
        return Layout(index.register, i, i + 1, list(index.standard_columns), n)
    return None


def _is_subheader(index: HeaderIndex, row: Sequence[Any]) -> bool:
    """A row of sub-headers below a header row (工程技术措施 / 管理措施 … under 现有管控措施)."""
    texts = [c for c in row if not nz.is_blank(c)]
    if len(texts) < 2 or any(type(c) is not str for c in texts):
        return False
    named = sum(1 for c in texts if index.lookup(c)[0] in ("part", "exact", "alias"))
    return named * 2 >= len(texts) and any(index.lookup(c)[0] == "part" for c in texts)


def _is_group_row(index: HeaderIndex, row: Sequence[Any], header: list[str]) -> bool:
    texts = [c for c in row if not nz.is_blank(c)]
    return bool(texts) and all(type(c) is str for c in texts) and any(index.lookup(h)[0] == "part" for h in header if h)


def map_columns(index: HeaderIndex, header: Sequence[str], sample: Sequence[Sequence[Any]],
                shown: Sequence[str] | None = None) -> list[Column]:
    """Each header cell → a field. Exact standard headers first, then parts, then aliases (in column order).
    *shown*: the headers as written (group/sub), for messages and the 转换说明."""
    columns = [Column(c, column_letter(c), shown[c] if shown else text) for c, text in enumerate(header) if text]
    taken: dict[str, Column] = {}
    looked = {col.index: index.lookup(header[col.index]) for col in columns}
    for col in columns:
        kind, fs = looked[col.index]
        if kind == "exact":
            _take(col, fs[0], taken)
    alias_keys = {f.key for kind, fs in looked.values() if kind == "alias" for f in fs}
    for col in columns:
        kind, fs = looked[col.index]
        if kind == "part":
            col.key, col.part = fs[0].key, index.labels.get(fold(header[col.index]), header[col.index])
        elif kind == "alias":
            free = [f for f in fs if f.key not in taken]
            if not free:
                col.reason, col.duplicate_of = f"与“{taken[fs[0].key].header}”同为“{fs[0].header}”，只读取前一列", fs[0].header
                continue
            chosen = _choose(free, col, sample, alias_keys | set(taken))
            if chosen is None:
                col.reason = f"内容不像“{free[0].header}”，未读取"
                col.hint = free[0].header
            else:
                _take(col, chosen, taken)
        elif kind == "ignored":
            col.reason = "序号只是行号，不是隐患编号" if fold(header[col.index]) == fold("序号") else "图片和操作列不能转换"
        elif kind == "":
            col.reason = "标准台账没有这一列"
            col.hint = suggest(index, header[col.index])
    return columns


def _take(col: Column, f: Field, taken: dict[str, Column]) -> None:
    if f.key in taken:
        col.reason, col.duplicate_of = f"与“{taken[f.key].header}”重复，只读取前一列", f.header
        return
    col.key = f.key
    taken[f.key] = col


def _choose(candidates: list[Field], col: Column, sample: Sequence[Sequence[Any]], present: set[str]) -> Field | None:
    """One field for an alias column: by the LEC/LS context, then by what the column's values read as."""
    keys = {f.key for f in candidates}
    if keys >= {"c", "s"}:  # 后果（S）: C of LEC when the sheet has an E column, else S of LS
        candidates = [f for f in candidates if f.key == ("c" if "e" in present else "s")]
    values = [row[col.index] for row in sample if col.index < len(row) and not nz.is_blank(row[col.index])]
    if not values:
        return candidates[0]
    from dpsheets.workbook.reader import coerce  # the one set of value readers

    scores = [(sum(coerce(f, v)[1] in (None, "rewrite", "relative") for v in values), -i, f)
              for i, f in enumerate(candidates)]
    good, _, best = max(scores, key=lambda s: (s[0], s[1]))
    if best.type is not FieldType.TEXT and good * 2 < len(values):
        return None  # 后果 written as words is not the C factor
    return best


def suggest(index: HeaderIndex, text: str) -> str:
    """The standard column an unknown header most likely means ("" when nothing is close)."""
    import difflib  # only for a header nobody recognised

    key = fold(text)
    names = {**{fold(f.header): f for f in index.register.fields},
             **{k: fs[0] for k, fs in index.alias.items()}}
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.5)
    if close:
        return names[close[0]].header
    for name, f in names.items():
        if len(name) >= 2 and (name in key or key in name) and len(key) >= 2:
            return f.header
    return ""


def _preamble(index: HeaderIndex, rows: Sequence[Sequence[Any]], layout: Layout) -> dict[str, tuple[str, int, int]]:
    """``label：value`` lines above the table (风险点：车床  岗位：车工) that name a field the table lacks."""
    mapped = layout.mapped()
    out: dict[str, tuple[str, int, int]] = {}
    for r, row in enumerate(rows):
        cells = list(row)
        for c, cell in enumerate(cells):
            if type(cell) is not str or ("：" not in cell and ":" not in cell):
                continue
            for label, value in _PAIR.findall(nz.nfkc(cell).strip()):
                value = value.strip()
                if not value:  # the value in the next non-blank cell
                    value = next((nz.as_text(v) for v in cells[c + 1:] if not nz.is_blank(v)), "")
                    if value and ("：" in value or ":" in value):
                        value = ""
                kind, fs = index.lookup(label)
                if not fs or not value or kind == "part":
                    continue
                f = fs[0]
                if f.key not in mapped and f.key not in out and f.type in (FieldType.TEXT, FieldType.DATE):
                    out[f.key] = (value, r, c)
    return out


def is_footer(row: Sequence[Any]) -> bool:
    """A signature line (填报人： 审核人： 日期：) or a note (注：…) under the table."""
    first = next((c for c in row if not nz.is_blank(c)), None)
    if type(first) is not str:
        return False
    text = nz.nfkc(first).strip()
    return text.startswith(NOTE_PREFIXES) or bool(_FOOTER.match(text))


def table_end(body: Sequence[Sequence[Any]]) -> int:
    """Index of the first footer row in *body* (rows below the header), or len(body)."""
    for i, row in enumerate(body):
        for c in row:  # cheap pre-test, inline: a footer's first non-blank cell is text with a colon or a note prefix
            if c == "" or c is None:
                continue
            if type(c) is str and ("：" in c or ":" in c or c.lstrip().startswith(_NOTE_START)) and is_footer(row):
                return i
            break
    return len(body)


_NOTE_START = ("注", "说明", "备注", "填表说明", "附")


# --- which sheet is which register ----------------------------------------------------------------

def recognise(sheets: Mapping[str, Sequence[Sequence[Any]]], wanted: Iterable[Register],
              extra: Aliases | None = None) -> dict[Register, list[str]]:
    """Sheets (not matched by name) whose header row makes them a register; several sheets may make one."""
    wanted = list(wanted)
    found: dict[Register, list[str]] = {}
    for name, rows in sheets.items():
        scores = sorted(((_sheet_score(r, rows, extra), i, r) for i, r in enumerate(wanted)), key=lambda s: (-s[0], s[1]))
        if not scores:
            continue
        best, _, register = scores[0]
        second = scores[1][0] if len(scores) > 1 else 0
        if best >= MIN_RECOGNISED and best > second:
            found.setdefault(register, []).append(name)
    return found


def _sheet_score(register: Register, rows: Sequence[Sequence[Any]], extra: Aliases | None) -> int:
    index = index_for(register, extra)
    if register.key_value:
        labels = set()
        for row in rows[:40]:
            first = next((c for c in row if not nz.is_blank(c)), None)
            kind, fs = index.lookup(first) if type(first) is str else ("", ())
            if fs and kind in ("exact", "alias"):
                labels.add(fs[0].key)
        return len(labels)
    return max((index.score(row) for row in rows[:HEADER_SCAN_ROWS]), default=0)


def expected_headers(register: Register, limit: int = 6) -> str:
    return "、".join([f.header for f in register.fields if f.required][:limit])


__all__ = ["Column", "HeaderIndex", "Layout", "expected_headers", "find_layout", "index_for", "is_footer",
           "map_columns", "recognise", "suggest", "table_end"]
