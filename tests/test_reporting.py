"""Reporting deadlines (16号令 art. 14): the calendar, each enterprise's filings, the 报送情况 sheet, the roster."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from archive_builders import at, submit, uscc

from dpsheets.county.archive import Archive
from dpsheets.county.rollup import MissingRow, rollup_archives
from dpsheets.county.roster import read_roster, write_template
from dpsheets.county.summary_book import write_summary
from dpsheets.county.summary_read import combine, read_summary
from dpsheets.errors import DpsheetsError
from dpsheets.rules import reporting
from dpsheets.rules.reporting import (
    DEFAULT,
    Deadlines,
    ReportingPeriod,
    Status,
    periods,
    reference_period,
    status,
)
from dpsheets.rules.stats import Period

Q = ReportingPeriod


# --- the calendar ---------------------------------------------------------------------------

def test_the_fourth_quarter_and_the_year_fall_due_in_january_of_the_next_year():
    assert DEFAULT.due(Q(2026, 4)) == date(2027, 1, 15)
    assert DEFAULT.due(Q(2026)) == date(2027, 1, 31)
    assert [DEFAULT.due(Q(2026, q)) for q in (1, 2, 3)] == [date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15)]
    assert (Q(2026, 4).start, Q(2026, 4).end, Q(2026).start, Q(2026).end) == (
        date(2026, 10, 1), date(2026, 12, 31), date(2026, 1, 1), date(2026, 12, 31))
    assert Q(2026, 4).label == "2026年第四季度" and Q(2026).label == "2026年度"
    assert Q.parse("2026Q4") == Q(2026, 4) and Q.parse("2026") == Q(2026) and Q(2026, 1).previous() == Q(2025, 4)
    assert Period.quarter(2026, 4).report_due == date(2027, 1, 15)  # the quarterly table uses the same calendar


def test_periods_shown_and_the_quarter_that_on_time_counts_across_the_year_boundary():
    assert periods(date(2027, 1, 10)) == [Q(2026, 1), Q(2026, 2), Q(2026, 3), Q(2026, 4), Q(2026)]  # by due date
    assert periods(date(2026, 12, 30)) == [Q(2025, 4), Q(2025), Q(2026, 1), Q(2026, 2), Q(2026, 3)]  # 2026 not ended
    assert periods(date(2026, 12, 31)) == [Q(2026, 1), Q(2026, 2), Q(2026, 3), Q(2026, 4), Q(2026)]
    assert periods(date(2027, 2, 28)) == periods(date(2027, 1, 1))
    assert reference_period(date(2027, 1, 14)) == Q(2026, 3)
    assert reference_period(date(2027, 1, 15)) == Q(2026, 4)
    assert reference_period(date(2027, 2, 28)) == Q(2026, 4) and reference_period(date(2027, 4, 15)) == Q(2027, 1)


def test_status_on_time_late_missing_and_not_yet_due():
    due = date(2027, 1, 15)
    assert status(date(2027, 1, 15), due, date(2027, 3, 1)) is Status.ON_TIME  # on the due date is on time
    assert status(date(2027, 1, 16), due, date(2027, 3, 1)) is Status.LATE
    assert status(None, due, date(2027, 1, 15)) is Status.PENDING
    assert status(None, due, date(2027, 1, 16)) is Status.MISSING
    assert status(date(2027, 1, 20), due, date(2027, 1, 18)) is Status.MISSING  # not yet received on as-of
    assert reporting.first_after([date(2026, 12, 31), date(2027, 1, 20), date(2027, 1, 3)], Q(2026, 4),
                                 date(2027, 2, 1)) == date(2027, 1, 3)  # the last day of the quarter does not count


def test_a_countys_own_deadlines_are_parsed_and_checked_in_chinese():
    own = Deadlines(10, 2, 28)
    assert own.due(Q(2026, 4)) == date(2027, 1, 10) and own.due(Q(2026)) == date(2027, 2, 28)
    assert own.due(Q(2027, 1)) == date(2027, 4, 10)
    assert [reporting.parse_quarter_day(v) for v in (10, 10.0, "10", "10日", "次月10日", " 季后 5 号")] == [10] * 5 + [5]
    assert [reporting.parse_year_due(v) for v in ("2月28日", "02-28", "次年2月28日", 20, date(2027, 3, 1))] == [
        (2, 28), (2, 28), (2, 28), (1, 20), (3, 1)]
    with pytest.raises(ValueError, match="4 月只有 30 天"):
        reporting.parse_quarter_day(31)
    with pytest.raises(ValueError, match="不是每年都有"):
        reporting.parse_year_due("2月29日")
    with pytest.raises(ValueError, match="如“2月28日”"):
        reporting.parse_year_due("月底")


# --- each enterprise's filings in the archive ---------------------------------------------------

def _archive(target):
    """1 on time; 2 late; 3 submitted on the quarter's last day (not the quarter's statistics), then late;
    4 on a roster with 季报 by the 10th and 年报 by 28 February; 5 on the roster, never submitted."""
    with Archive(target) as a:
        submit(a, 1, at(date(2026, 10, 10)), seed=1)
        submit(a, 1, at(date(2027, 1, 12)), seed=2)
        submit(a, 2, at(date(2026, 10, 20)), seed=3)
        submit(a, 2, at(date(2027, 2, 3)), seed=4)
        submit(a, 3, at(date(2026, 9, 30), 23), seed=5)
        submit(a, 3, at(date(2027, 1, 20)), seed=6)
        submit(a, 4, at(date(2026, 10, 12)), seed=7)
        submit(a, 4, at(date(2027, 2, 20)), seed=8)
    return [MissingRow(uscc(4), "企业004", deadlines=Deadlines(10, 2, 28)), MissingRow(uscc(5), "企业005", "舞阳县")]


def _statuses(rollup, period):
    return {u: rollup.filings.status(u, period).value for u in sorted(rollup.filings.by_uscc)}


def test_each_enterprises_statistics_on_time_late_or_missing(archive_target):
    roster = _archive(archive_target)
    r = rollup_archives([archive_target], as_of=date(2027, 2, 5), roster=roster)
    assert _statuses(r, Q(2026, 3)) == {uscc(1): "按时", uscc(2): "逾期", uscc(3): "逾期", uscc(4): "逾期",
                                        uscc(5): "未报送"}
    assert _statuses(r, Q(2026, 4)) == {uscc(1): "按时", uscc(2): "逾期", uscc(3): "逾期", uscc(4): "未报送",
                                        uscc(5): "未报送"}
    assert _statuses(r, Q(2026)) == {uscc(1): "按时", uscc(2): "逾期", uscc(3): "按时", uscc(4): "未到期",
                                     uscc(5): "未报送"}
    assert r.filings.by_uscc[uscc(3)]["2026Q3"].received == date(2027, 1, 20)  # 30 September is not after the quarter
    assert r.filings.reference == Q(2026, 4)
    assert r.totals().on_time == 1  # 按时报送 means the reference quarter's statistics arrived by the due date
    later = rollup_archives([archive_target], as_of=date(2027, 3, 1), roster=roster)
    assert _statuses(later, Q(2026, 4))[uscc(4)] == "逾期" and _statuses(later, Q(2026))[uscc(4)] == "按时"
    assert later.filings.counts(Q(2026)) == {
        Status.ON_TIME: 3, Status.LATE: 1, Status.MISSING: 1, Status.PENDING: 0}


def test_the_summary_sheet_lists_counts_per_period_and_every_enterprise(tmp_path):
    target = tmp_path / "档案.sqlite"
    r = rollup_archives([target], as_of=date(2027, 2, 5), roster=_archive(target))
    book = write_summary(r, tmp_path / "汇总.xlsx")
    ws = openpyxl.load_workbook(book)["报送情况"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0][:8]) == ["报送期间", "报送期限", "应报企业", "按时", "逾期", "未报送", "未到期", "按时报送率"]
    counts = {row[0]: row[1:] for row in rows[1:6]}
    assert list(counts) == ["2026年第一季度", "2026年第二季度", "2026年第三季度", "2026年第四季度", "2026年度"]
    assert counts["2026年第四季度"][:6] == ("2027-01-15（另有期限的企业按其期限）", 5, 1, 2, 2, 0)
    assert counts["2026年度"][:6] == ("2027-01-31（另有期限的企业按其期限）", 5, 2, 1, 1, 1)
    assert counts["2026年第四季度"][6] == pytest.approx(0.2)
    head = rows[7]
    assert list(head[:6]) == ["统一社会信用代码", "企业名称", "所属县（市、区）", "乡镇（街道）/产业园区", "行业领域", "本企业报送期限"]
    assert list(head[12:14]) == ["2026年第四季度", "2026年第四季度报送日期"]
    matrix = {row[0]: row for row in rows[8:]}
    jan20 = datetime(2027, 1, 20)  # real dates in the sheet
    assert matrix[uscc(3)][10:16] == ("逾期", jan20, "逾期", jan20, "按时", jan20)
    assert matrix[uscc(4)][5] == "季报次月10日前、年报次年2月28日前" and matrix[uscc(4)][14] == "未到期"
    assert matrix[uscc(5)][6:16:2] == ("未报送",) * 5 and matrix[uscc(5)][7] is None
    overview = {row[0]: row[1] for row in openpyxl.load_workbook(book)["总览"].iter_rows(values_only=True) if row[0]}
    assert overview["按时报送企业（2026年第四季度）"] == 1
    back = read_summary(book)
    assert back.filings == r.filings and back.totals().on_time == 1  # read back exactly
    import docx

    from dpsheets.county.summary_report import write_report

    report = docx.Document(str(write_report(r, tmp_path / "报告.docx", "舞阳县汇总")))
    assert "2026年第四季度统计按时报送 1 家" in "\n".join(p.text for p in report.paragraphs)


def test_a_city_carries_the_counties_filings_exactly(tmp_path):
    a, b = tmp_path / "A.sqlite", tmp_path / "B.sqlite"
    with Archive(a) as arch:
        submit(arch, 1, at(date(2026, 10, 20)), seed=1, county="舞阳县")  # late for the third quarter
        submit(arch, 2, at(date(2026, 10, 3)), seed=2, county="舞阳县")
    with Archive(b) as arch:
        submit(arch, 1, at(date(2026, 11, 20)), seed=3, county="临颍县")  # moved: its latest row is here
        submit(arch, 3, at(date(2026, 10, 14)), seed=4, county="临颍县")
    as_of = date(2026, 11, 28)
    books = [write_summary(rollup_archives([p], as_of=as_of, roster=roster), tmp_path / f"{p.stem}.xlsx")
             for p, roster in ((a, [MissingRow(uscc(9), "企业009", "舞阳县")]), (b, None))]
    city = combine([read_summary(p) for p in books], "市")
    union = rollup_archives([a, b], as_of=as_of, roster=[MissingRow(uscc(9), "企业009", "舞阳县")])
    assert city.filings == union.filings
    assert city.filings.status(uscc(1), Q(2026, 3)) is Status.LATE  # the earliest arrival, in county A
    assert city.totals().on_time == union.totals().on_time == 2
    again = read_summary(write_summary(city, tmp_path / "市.xlsx"))  # and on to the province
    assert again.filings == union.filings


# --- the roster -------------------------------------------------------------------------------

def _roster(tmp_path, rows):
    path = write_template(tmp_path / "名单.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["企业名单"]
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_a_roster_row_may_set_its_own_deadlines(tmp_path):
    head = [c.value for c in openpyxl.load_workbook(write_template(tmp_path / "空.xlsx"))["企业名单"][1]]
    assert head[-2:] == ["季报截止日", "年报截止日"]
    path = _roster(tmp_path, [["企业一", uscc(1), "舞阳县", "", "机械", "次月10日", "2月28日"],
                              ["企业二", uscc(2), "舞阳县", "", "机械", None, None],
                              ["企业三", uscc(3), "舞阳县", "", "机械", 15, "1月31日"]])  # the default, written out
    rows, warnings = read_roster(path)
    assert warnings == [] and [r.deadlines for r in rows] == [Deadlines(10, 2, 28), None, None]


def test_a_roster_deadline_that_is_not_one_names_its_cell(tmp_path):
    path = _roster(tmp_path, [["企业一", uscc(1), "舞阳县", "", "机械", "31", ""],
                              ["企业二", uscc(2), "舞阳县", "", "机械", "", "2月29日"]])
    with pytest.raises(DpsheetsError) as err:
        read_roster(path)
    assert err.value.code == "roster.invalid-deadline"
    assert "单元格 F2（季报截止日）" in err.value.message and "4 月只有 30 天" in err.value.message
    assert "单元格 G3（年报截止日）“2月29日”不是每年都有的日期" in err.value.message


def test_a_summary_whose_filings_were_edited_names_the_cell(tmp_path):
    target = tmp_path / "档案.sqlite"
    book = write_summary(rollup_archives([target], as_of=date(2027, 2, 5), roster=_archive(target)), tmp_path / "汇总.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["_dpsheets_reporting"]
    assert [c.value for c in ws[1]] == ["uscc", "own", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "2026"]
    ws["E2"] = "十月"
    wb.save(book)
    with pytest.raises(DpsheetsError) as err:
        read_summary(book)
    assert err.value.code == "rollup.damaged" and "“_dpsheets_reporting”表的单元格 E2" in err.value.message
