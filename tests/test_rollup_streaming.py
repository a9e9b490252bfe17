"""The streamed roll-up: sheet rows written as XML equal xlsxwriter's own, long lists kept on disk.

A province roll-up never holds its enterprise rows, overdue hazards or monthly figures in memory: they
are :class:`~dpsheets.county.rows.Rows` read back from a temporary file. These tests check that the
fast sheet writer writes exactly what xlsxwriter writes for the same calls (values and formats), that
``Rows`` behaves as the lists it replaces, and that a roll-up's lists read the same however often.
"""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest
import xlsxwriter
from builders import AS_OF

from dpsheets.county.rollup import rollup_archives
from dpsheets.county.rows import Rows, Spill
from dpsheets.county.sheet_xml import FastRows, Styles

ROWS = [
    ["普通文字", 12, 3.5, 0.25, None, True, date(2026, 11, 28)],
    ["  前后空格  ", -7, 1e20, 1.0, "", False, "a < b & c > d"],
    ["控制\x01字符\x0b和_x0041_转义", 0, 2 ** 53, 0.333333333333333, "\ufffe", "=1+2", "长" * 40],
    ["\t制表开头", 10 ** 17, -0.0, None, "😀𠀀扩展B", "换行\n在中间", "x" * 20000],
]


def _book(path, constant_memory: bool, fast: bool):
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    cell, pct, wrap = wb.add_format({"border": 1}), wb.add_format({"num_format": "0.0%"}), wb.add_format({"text_wrap": True})
    styles = Styles(blank=cell, number=cell, floats=[cell, cell, cell, pct], text=cell, long_text=wrap, long_over=30)
    ws = wb.add_worksheet("表")
    ws.set_row(0, 30)
    ws.write_string(0, 0, "表头")
    if fast:
        assert FastRows(ws, 1, styles).write_all(ROWS) == len(ROWS)
    else:  # what the calls themselves write
        for r, row in enumerate(ROWS, start=1):
            for c, v in enumerate(row):
                kind, fmt = styles.of(c, v)
                if kind == "b":
                    ws.write_blank(r, c, None, fmt)
                elif kind == "n":
                    ws.write_number(r, c, v, fmt)
                else:
                    ws.write_string(r, c, v if isinstance(v, str) else str(v), fmt)
    ws.autofilter(0, 0, len(ROWS), 6)
    wb.close()
    return path


def _cells(path):
    ws = openpyxl.load_workbook(path)["表"]
    return [[(c.value, c.number_format, c.alignment.wrap_text, bool(c.border.left.style)) for c in row]
            for row in ws.iter_rows()], ws.dimensions, ws.auto_filter.ref


@pytest.mark.parametrize("constant_memory", [True, False])
def test_rows_written_as_xml_equal_xlsxwriters_own(tmp_path, constant_memory):
    slow = _book(tmp_path / "slow.xlsx", constant_memory, fast=False)
    fast = _book(tmp_path / "fast.xlsx", constant_memory, fast=True)
    assert _cells(fast) == _cells(slow)
    values = _cells(fast)[0]
    assert values[1][0][0] == "普通文字" and values[1][3][:2] == (0.25, "0.0%") and values[2][6][0] == "a < b & c > d"
    assert values[3][0][0].startswith("控制_x0001_字符") and values[4][6][0] == "x" * 20000  # Excel's escapes


def test_rows_act_as_the_lists_they_replace():
    reads = []

    def source():
        reads.append(1)
        return iter(range(10))

    rows = Rows(source, 10)
    assert len(rows) == 10 and list(rows) == list(range(10)) and list(rows) == list(range(10))
    assert rows[:3] == [0, 1, 2] and rows[-1] == 9 and rows[4] == 4 and rows[::-3] == [9, 6, 3, 0]
    assert rows + [10] == [*range(11)] and [-1] + rows == [-1, *range(10)]
    with pytest.raises(IndexError):
        rows[10]
    spill = Spill(3, 2)
    for row in [(2, "乙", "c"), (1, "甲", "b"), (2, "乙", "a"), (1, "乙", "d"), (1, "甲", "e")]:
        spill.add(row)
    assert list(spill.sorted()) == [(1, "乙", "d"), (1, "甲", "b"), (1, "甲", "e"), (2, "乙", "c"), (2, "乙", "a")]


def test_a_rollups_lists_are_on_disk_and_read_the_same_each_time(tmp_path):
    from test_rollup import build_archive  # noqa: PLC0415 - the roll-up tests' archive

    build_archive(tmp_path / "a.sqlite", tmp_path, range(20))
    result = rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF)
    for name in ("enterprises", "overdue", "majors", "monthly"):
        listed = getattr(result, name)
        assert isinstance(listed, Rows), name
        first, again = list(listed), list(listed)
        assert first == again and len(first) == len(listed)
    held = result.in_memory()
    assert held.enterprises == list(result.enterprises) and held.totals() == result.totals()
    assert [r.uscc for r in held.enforcement()] == [r.uscc for r in result.enforcement()]
    assert len(result.overdue) == result.totals().sums["hazards_overdue"] > 0


def test_rows_written_from_templates_equal_rows_written_cell_by_cell(tmp_path):
    """The fast writer's row templates (one per combination of cell types) write exactly what writing each cell
    does, for values that need escaping, spaces, long texts, blanks, numbers and types of their own."""
    import random

    rnd = random.Random(7)
    pieces = ["甲", "ab", " ", "\t", "<", ">", "]]>", "&", "_x0041_", "_x12", "\x01", "\n", "😀", "𠀀", "长" * 31, "=1+2", ""]

    def value():
        kind = rnd.randrange(8)
        if kind < 3:
            return "".join(rnd.choice(pieces) for _ in range(rnd.randrange(4)))
        return (None, rnd.randrange(-5, 10 ** 6), rnd.random() * 100, True, AS_OF)[kind - 3]

    wb = xlsxwriter.Workbook(str(tmp_path / "t.xlsx"), {"constant_memory": True})
    cell, pct, wrap = wb.add_format({"border": 1}), wb.add_format({"num_format": "0.0%"}), wb.add_format({"text_wrap": True})
    for styles in (Styles(), Styles(blank=cell, number=cell, floats=[cell, pct], text=cell, long_text=wrap, long_over=30)):
        rows = FastRows(wb.add_worksheet(), 1, styles)
        assert rows.direct
        for n in range(3000):
            values = [value() for _ in range(rnd.randrange(1, 9))] if n % 2 else ["文字", 3, 0.5, None, "a" * 40, n]
            assert rows.maker.xml(str(n + 2), values) == rows.maker._row(str(n + 2), values), values
        plain = ["文字", 3, 0.5, None, "a" * 40, 7]  # written from its template, not cell by cell
        long = (False, styles.long_over < 40) if styles.long_over < 99 else ()
        template = rows.maker._shapes[tuple(map(type, plain)), long].template
        assert template and template.format("9", *plain) == rows.maker._row("9", plain)
    wb.close()


def test_a_second_process_writes_the_longest_sheets_byte_for_byte_as_this_one(tmp_path, monkeypatch):
    """A large summary's 企业明细 (with its hidden breaches) is written by a second process
    (dpsheets.county.sheet_jobs): the workbook holds exactly the XML this process writes, sheet by sheet."""
    import zipfile

    from test_rollup import build_archive  # noqa: PLC0415 - the roll-up tests' archive

    from dpsheets.county import sheet_jobs
    from dpsheets.county.summary_book import write_summary

    build_archive(tmp_path / "a.sqlite", tmp_path, range(12))
    result = rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF)
    assert len(result.overdue) > 0 and any(e.breaches for e in result.enterprises)
    here = write_summary(result, tmp_path / "here.xlsx")
    started = []
    original = sheet_jobs.Alongside.__init__

    def counted(self):  # noqa: ANN001, ANN202
        started.append(1)
        original(self)

    monkeypatch.setattr(sheet_jobs, "ALONGSIDE_ROWS", 1)
    monkeypatch.setattr(sheet_jobs.Alongside, "__init__", counted)
    alongside = write_summary(result, tmp_path / "alongside.xlsx")
    assert started == [1]
    with zipfile.ZipFile(here) as a, zipfile.ZipFile(alongside) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name != "docProps/core.xml":  # only its time of creation differs
                assert a.read(name) == b.read(name), name
    assert read_summary_rows(alongside) == read_summary_rows(here)


def read_summary_rows(path):
    from dpsheets.county.summary_read import read_summary

    back = read_summary(path)
    return [(e.uscc, e.hazards_overdue, [b.code for b in e.breaches]) for e in back.enterprises], len(back.overdue)


def _exit_unless_in(pid: int) -> str:
    """A job that kills the process it runs in, unless that is process *pid*."""
    import os

    if os.getpid() != pid:
        os._exit(3)
    return "written here"


def test_a_job_the_second_process_could_not_finish_is_done_here():
    import os

    from dpsheets.county.sheet_jobs import Alongside

    side = Alongside()
    try:
        assert side.submit(_exit_unless_in, os.getpid())() == "written here"
    finally:
        side.close()
