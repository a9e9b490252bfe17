"""`dpsheets rollup --archive A --archive B`: one enterprise in two archives counts once, everywhere."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import pandas as pd
from archive_builders import at, submit, uscc
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.county.archive import Archive
from dpsheets.county.rollup import month_ends, rollup_archives
from dpsheets.county.summary_read import read_summary

AS_OF = date(2026, 11, 28)


def _two_archives(tmp_path):
    """Enterprise 1 moved from county A to county B: B holds its newer submission."""
    a, b = tmp_path / "A.sqlite", tmp_path / "B.sqlite"
    with Archive(a) as arch:
        submit(arch, 1, at(AS_OF - timedelta(days=70)), seed=1, hazards=12)  # old, with its own overdue hazards
        submit(arch, 2, at(AS_OF - timedelta(days=20)), seed=2, hazards=8)
    with Archive(b) as arch:
        submit(arch, 1, at(AS_OF - timedelta(days=10)), seed=3, hazards=9)  # the latest for enterprise 1
        submit(arch, 3, at(AS_OF - timedelta(days=40)), seed=4, hazards=7)
    return a, b


def test_an_enterprise_in_two_archives_is_counted_once_in_every_sheet(tmp_path):
    a, b = _two_archives(tmp_path)
    out = tmp_path / "汇总"
    result = CliRunner().invoke(cli, ["rollup", "--archive", str(a), "--archive", str(b), "--as-of", AS_OF.isoformat(),
                                      "-o", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    book = out / f"汇总_县级_{AS_OF.isoformat()}.xlsx"
    detail = pd.read_excel(book, engine="openpyxl", sheet_name="企业明细", dtype={"统一社会信用代码": str}).set_index("统一社会信用代码")
    assert sorted(detail.index) == [uscc(1), uscc(2), uscc(3)]
    overdue = pd.read_excel(book, engine="openpyxl", sheet_name="逾期隐患", dtype={"统一社会信用代码": str})
    majors = pd.read_excel(book, engine="openpyxl", sheet_name="重大隐患", dtype={"统一社会信用代码": str})
    for code in detail.index:
        assert (overdue["统一社会信用代码"] == code).sum() == detail.loc[code, "逾期隐患"], code
        assert (majors["统一社会信用代码"] == code).sum() == detail.loc[code, "重大隐患未销号"], code
    assert len(overdue) == detail["逾期隐患"].sum() > 0
    total = pd.read_excel(book, engine="openpyxl", sheet_name="总览", header=None)
    trend = {str(r[3]): r[4] for r in total.itertuples(index=False) if isinstance(r[3], str) and r[3][:2] == "20"}
    assert trend[AS_OF.strftime("%Y-%m")] == detail["逾期隐患"].sum()


def test_the_trend_counts_each_enterprise_once_at_every_month_end(tmp_path):
    a, b = _two_archives(tmp_path)
    rollup = rollup_archives([a, b], as_of=AS_OF)
    for day in month_ends(AS_OF):
        on_that_day = rollup_archives([a, b], as_of=day)
        if on_that_day.totals().submitted:
            assert rollup.trend[day.strftime("%Y-%m")] == on_that_day.totals().sums["hazards_overdue"] == len(on_that_day.overdue)
        else:  # before any submission: no data, not zero
            assert rollup.trend[day.strftime("%Y-%m")] is None


def _county_summary(tmp_path, name: str, archive, *extra: str):
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["rollup", "--archive", str(archive), "--as-of", AS_OF.isoformat(), "-o", str(out),
                                      "--no-report", *extra])
    assert result.exit_code == 0, result.output
    return out / f"汇总_县级_{AS_OF.isoformat()}.xlsx"


def test_a_city_counts_an_enterprise_of_two_counties_once_and_states_each_countys_rules(tmp_path):
    a, b = tmp_path / "舞阳.sqlite", tmp_path / "临颍.sqlite"
    with Archive(a) as arch:
        submit(arch, 1, at(AS_OF - timedelta(days=70)), seed=1, hazards=12, county="舞阳县")
        submit(arch, 2, at(AS_OF - timedelta(days=20)), seed=2, hazards=8, county="舞阳县")
    with Archive(b) as arch:
        submit(arch, 1, at(AS_OF - timedelta(days=10)), seed=3, hazards=9, county="临颍县")  # moved: the latest
        submit(arch, 3, at(AS_OF - timedelta(days=40)), seed=4, hazards=7, county="临颍县")
    (tmp_path / "临颍.toml").write_text("[rules]\nstale_days = 30\n", encoding="utf-8")
    books = [_county_summary(tmp_path, "舞阳", a), _county_summary(tmp_path, "临颍", b, "--config", str(tmp_path / "临颍.toml"))]
    result = CliRunner().invoke(cli, ["rollup", "--from", str(books[0]), "--from", str(books[1]), "-o", str(tmp_path / "市"),
                                      "--no-report"])
    assert result.exit_code == 0, result.output
    city = tmp_path / "市" / f"汇总_市级_{AS_OF.isoformat()}.xlsx"
    read = functools.partial(pd.read_excel, city, engine="openpyxl", dtype={"统一社会信用代码": str})
    detail = read(sheet_name="企业明细").set_index("统一社会信用代码")
    assert detail.loc[uscc(1), "所属县（市、区）"] == "临颍县" and len(detail) == 3
    overdue = read(sheet_name="逾期隐患")
    for code in detail.index:
        assert (overdue["统一社会信用代码"] == code).sum() == detail.loc[code, "逾期隐患"], code
    union = rollup_archives([a, b], as_of=AS_OF)
    assert read_summary(city).trend == union.trend
    rules = read(sheet_name="规则说明")
    stale = rules[rules["规则代码"] == "rule.stale"].set_index("适用范围")["说明"]
    assert stale.to_dict() == {"舞阳县": "最近一次报送距统计日超过 120 天。", "临颍县": "最近一次报送距统计日超过 30 天。"}
    problems = read(sheet_name="重点检查企业").set_index("统一社会信用代码")["原因"]
    assert "最近一次报送在 40 天前" in problems[uscc(3)] and "超过 30 天" in problems[uscc(3)]
    assert "报送" not in str(problems.get(uscc(2), ""))  # 20 days, under 舞阳县's 120
