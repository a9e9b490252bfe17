"""County roll-up: every figure against an independent pandas computation; the enforcement
rules against hand-built cases; city = sum of counties = roll-up of the union of archives."""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta

import openpyxl
import pandas as pd
import pytest
from archive_builders import workbook_data
from builders import AS_OF
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.config import Config, RollupRules
from dpsheets.county.archive import Archive
from dpsheets.county.rollup import EnterpriseRow, MissingRow, evaluate, rollup_archives
from dpsheets.county.summary_book import write_summary
from dpsheets.county.summary_read import combine, read_summary
from dpsheets.rules.breaches import BREACHES
from dpsheets.rules.checks import check_workbook
from dpsheets.rules.findings import find
from dpsheets.rules.problems import Report
from dpsheets.workbook.samples import plant, valid_uscc

read_excel = functools.partial(pd.read_excel, engine="openpyxl")
TOWNSHIPS = ("舞泉镇", "北舞渡镇", "孟寨镇")
INDUSTRIES = ("机械", "建材", "商贸")
CONFIG = Config()


def uscc(i: int) -> str:
    return valid_uscc(f"9141112100{i:07d}")


def _submit(archive: Archive, tmp, i: int, received: datetime, seed: int, **kwargs) -> None:
    p = plant(received.date(), seed=seed, uscc=uscc(i), name=kwargs.pop("name", f"企业{i:03d}"),
              township=TOWNSHIPS[i % 3], industry=INDUSTRIES[(i // 3) % 3], **kwargs)
    if i % 7 == 0:
        p.rows["drill"] = []  # no drill for a year
    if i % 11 == 0:
        for h in p.rows["hazard"]:
            if h["level"] == "重大隐患":
                h["plan"] = None  # major hazard without plan
    # straight into the archive: the roll-up is under test here, not the workbook round trip
    data = workbook_data(p.enterprise, p.rows)
    report = Report(check_workbook(data, received.date(), CONFIG) + find(data, received.date(), CONFIG))
    archive.add_submission(data, report, file_name=f"{i}-{seed}.xlsx", sha256=f"{i}-{seed}", received_at=received)


def build_archive(path, tmp, members) -> None:
    with Archive(path) as a:
        for i in members:
            days_ago = 3 + (i * 17) % 200  # some stale (> 120 days)
            received = datetime.combine(AS_OF - timedelta(days=days_ago), datetime.min.time()).replace(hour=9)
            _submit(a, tmp, i, received - timedelta(days=60), seed=1000 + i, hazards=4 + i % 5, risks=6)  # older
            _submit(a, tmp, i, received, seed=i, hazards=5 + i % 9, risks=8 + i % 4, posts=2 + i % 3,
                    employees=3 + i % 4)
            if i % 10 == 0:  # a submission after the as-of date is ignored
                _submit(a, tmp, i, datetime.combine(AS_OF + timedelta(days=5), datetime.min.time()), seed=5000 + i)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("county")
    build_archive(tmp / "a.sqlite", tmp, range(50))
    roster = [MissingRow(uscc(i), f"企业{i:03d}", "舞阳县", TOWNSHIPS[i % 3], INDUSTRIES[(i // 3) % 3]) for i in range(55)]
    result = rollup_archives([tmp / "a.sqlite"], as_of=AS_OF, roster=roster)
    book = write_summary(result, tmp / "汇总.xlsx")
    return tmp, result, book


def independent(archive_path) -> pd.DataFrame:
    """The indicators recomputed with pandas from the archived records (the JSON, not the typed tables)."""
    with Archive(archive_path) as a:
        subs = pd.DataFrame(a.rows("SELECT id, uscc, received_at, errors FROM submissions"))
        recs = pd.DataFrame(a.rows("SELECT submission_id, register, data FROM records"))
    subs = subs[subs.received_at.str[:10] <= AS_OF.isoformat()]
    latest = subs.sort_values(["received_at", "id"]).groupby("uscc").tail(1).set_index("id")
    recs = recs[recs.submission_id.isin(latest.index)]
    recs = pd.concat([recs.drop(columns="data"), pd.json_normalize(recs.data.map(json.loads))], axis=1)
    asof = pd.Timestamp(AS_OF)
    hz = recs[recs.register == "hazard"].copy()
    for c in ("deadline", "completed_on"):
        hz[c] = pd.to_datetime(hz[c])
    closed = hz.status == "已销号"
    done_in_time = hz.completed_on.notna() & (hz.completed_on <= hz.deadline)
    late = closed & hz.completed_on.notna() & (hz.completed_on > hz.deadline)
    hz = hz.assign(open=~closed, overdue=~closed & (hz.deadline < asof) & ~done_in_time,
                   major_open=~closed & (hz.level == "重大隐患"),
                   major_without_plan=~closed & (hz.level == "重大隐患") & hz.get("plan", pd.Series(index=hz.index)).isna(),
                   closed_on_time=closed & ~late, closed_late=late)
    out = hz.groupby("submission_id")[["open", "overdue", "major_open", "major_without_plan", "closed_on_time",
                                       "closed_late"]].sum()
    out["hazards_total"] = hz.groupby("submission_id").size()
    rk = recs[recs.register == "risk"]
    for level, key in (("重大风险", "risks_major"), ("较大风险", "risks_significant"), ("一般风险", "risks_general"),
                       ("低风险", "risks_low")):
        out[key] = rk[rk.level == level].groupby("submission_id").size()
    for reg in ("post", "employee"):
        out[reg + "s"] = recs[recs.register == reg].groupby("submission_id").size()
    for reg, key in (("training", "trainings_12m"), ("drill", "drills_12m"), ("quiz", "quiz_12m")):
        led = recs[recs.register == reg].copy()
        led["date"] = pd.to_datetime(led["date"])
        recent = led[(led.date > asof - pd.Timedelta(days=365)) & (led.date <= asof)]
        out[key] = recent.groupby("submission_id").size()
    out = out.reindex(latest.index).fillna(0).astype(int)
    out["data_errors"] = latest["errors"]
    out.index = latest.loc[out.index, "uscc"]
    return out.rename(columns={"open": "hazards_open", "overdue": "hazards_overdue"}).sort_index()


COLUMNS = {"数据错误": "data_errors", "重大风险": "risks_major", "较大风险": "risks_significant", "一般风险": "risks_general",
           "低风险": "risks_low", "隐患总数": "hazards_total", "未销号隐患": "hazards_open", "逾期隐患": "hazards_overdue",
           "重大隐患未销号": "major_open", "重大隐患无治理方案": "major_without_plan", "按期销号": "closed_on_time",
           "逾期销号": "closed_late", "岗位告知卡": "posts", "岗位人员": "employees", "近12个月培训次数": "trainings_12m",
           "近12个月演练次数": "drills_12m", "近12个月答题确认": "quiz_12m"}


def test_every_enterprise_figure_matches_pandas(county):
    tmp, result, book = county
    detail = read_excel(book, sheet_name="企业明细", dtype={"统一社会信用代码": str}).set_index("统一社会信用代码").sort_index()
    expected = independent(tmp / "a.sqlite")
    assert list(detail.index) == list(expected.index) and len(detail) == 50
    for header, key in COLUMNS.items():
        assert detail[header].astype(int).tolist() == expected[key].tolist(), header
    rate = (expected.closed_on_time + expected.closed_late) / expected.hazards_total
    assert detail["销号率"].round(9).tolist() == rate.round(9).tolist()


def test_group_sheets_are_sums_of_the_enterprises(county):
    tmp, result, book = county
    detail = read_excel(book, sheet_name="企业明细")
    for sheet, column in (("乡镇汇总", "乡镇（街道）/产业园区"), ("行业汇总", "行业领域"), ("县区汇总", "所属县（市、区）")):
        groups = read_excel(book, sheet_name=sheet).set_index(column)
        sums = detail.groupby(column)[list(COLUMNS)].sum()
        for name, row in sums.iterrows():
            for header in COLUMNS:
                assert groups.loc[name, header] == row[header], (sheet, name, header)
        assert groups.loc["合计", "逾期隐患"] == detail["逾期隐患"].sum()
    townships = read_excel(book, sheet_name="乡镇汇总").set_index("乡镇（街道）/产业园区")
    assert townships.loc["合计", "应报企业"] == 55 and townships.loc["合计", "已报送"] == 50
    assert townships["应报企业"].drop("合计").sum() == 55


def test_hazard_lists_and_missing(county):
    tmp, result, book = county
    detail = read_excel(book, sheet_name="企业明细")
    overdue = read_excel(book, sheet_name="逾期隐患")
    assert len(overdue) == detail["逾期隐患"].sum()
    deadlines = pd.to_datetime(overdue["治理期限"])
    assert ((pd.Timestamp(AS_OF) - deadlines).dt.days == overdue["逾期天数"]).all()
    majors = read_excel(book, sheet_name="重大隐患")
    assert len(majors) == detail["重大隐患未销号"].sum()
    missing = read_excel(book, sheet_name="未报送企业", dtype=str)
    assert sorted(missing["统一社会信用代码"]) == sorted(uscc(i) for i in range(50, 55))
    trend = result.trend
    assert len(trend) == 12 and trend[AS_OF.strftime("%Y-%m")] == detail["逾期隐患"].sum()


def test_enforcement_list_names_the_rules_broken(county):
    tmp, result, book = county
    sheet = read_excel(book, sheet_name="重点检查企业")
    detail = read_excel(book, sheet_name="企业明细")
    assert len(sheet) == (detail["未有效运行"] == "是").sum() + 5
    assert sheet["分值"].is_monotonic_decreasing and (sheet["分值"] > 0).all()
    by_name = dict(zip(sheet["企业名称"], sheet["原因"], strict=True))
    assert by_name["企业050"] == "未报送台账（rule.not-submitted，100 分）"
    assert "应急演练" in by_name["企业007"]  # i % 7 == 0 has no drills
    scores = dict(zip(sheet["企业名称"], sheet["分值"], strict=True))
    for name, text in by_name.items():  # the score is the sum of the points its reasons state
        points = [float(x.split("，")[-1].removesuffix(" 分）")) for x in text.split("；")]
        assert scores[name] == pytest.approx(sum(points)), name
    rules = read_excel(book, sheet_name="规则说明")
    assert len(rules) == len(BREACHES) and rules["说明"].str.contains("120 天").any()
    assert rules.set_index("规则代码").loc["rule.overdue", "计分"].startswith("每项 3 分")
    assert set(rules["规则代码"]) == set(BREACHES) and set(rules["适用范围"]) == {"全部"}


BASE = dict(uscc="X", name="甲", last_submission=(AS_OF - timedelta(days=10)).isoformat(), risks_general=3, posts=2,
            employees=4, months_since_training=2, months_since_drill=5, days_since_hazard=10)


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, []),
    ({"last_submission": (AS_OF - timedelta(days=121)).isoformat()},
     [("rule.stale", {"age": 121, "stale_days": 120, "last_submission": (AS_OF - timedelta(days=121)).isoformat()},
       "最近一次报送在 121 天前")]),
    ({"last_submission": (AS_OF - timedelta(days=120)).isoformat()}, []),
    ({"hazards_overdue": 1, "overdue_days": 5, "overdue_longest": 5},
     [("rule.overdue", {"count": 1, "max_overdue": 0, "majors": 0, "days": 5, "major_days": 0, "longest": 5},
       "有 1 项逾期未整改隐患（允许 0 项），其中重大隐患 0 项，最长逾期 5 天")]),
    ({"major_without_plan": 2}, [("rule.major-without-plan", {"count": 2}, "有 2 项重大隐患未制定治理方案")]),
    ({"months_since_training": 12},
     [("rule.no-training", {"months_since": 12, "months_without_training": 12}, "近 12 个月无教育培训记录")]),
    ({"months_since_training": 11}, []),
    ({"months_since_drill": None},
     [("rule.no-drill", {"months_since": None, "months_without_drill": 12}, "近 12 个月无应急演练记录")]),
    ({"risks_general": 0, "posts": 0},
     [("rule.empty-registers", {"registers": ["risk", "post"]}, "风险管控清单、岗位安全责任清单为空")]),
])
def test_rules_on_hand_built_cases(changes, expected):
    broken = evaluate(EnterpriseRow(**{**BASE, **changes}), AS_OF, RollupRules())
    assert [(b.code, dict(b.params)) for b in broken] == [(code, params) for code, params, _ in expected]
    for b, (_, _, prefix) in zip(broken, expected, strict=True):
        assert b.message.startswith(prefix)


def test_rules_come_from_configuration():
    row = EnterpriseRow(**{**BASE, "hazards_overdue": 2})
    assert evaluate(row, AS_OF, RollupRules(max_overdue=2)) == []


def test_text_is_never_a_formula(tmp_path):
    with Archive(tmp_path / "a.sqlite") as a:
        _submit(a, tmp_path, 1, datetime(2026, 11, 20, 9), seed=1, name="=HYPERLINK(\"http://x\",\"点我\")")
    book = write_summary(rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF), tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(book)["企业明细"]
    cell = ws["B2"]
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"


def test_city_summary_equals_union_of_county_archives(tmp_path):
    build_archive(tmp_path / "a.sqlite", tmp_path, range(0, 12))
    build_archive(tmp_path / "b.sqlite", tmp_path, range(12, 20))
    county_books = [write_summary(rollup_archives([tmp_path / f"{n}.sqlite"], as_of=AS_OF), tmp_path / f"{n}.xlsx")
                    for n in "ab"]
    city = combine([read_summary(p) for p in county_books], "市")
    union = rollup_archives([tmp_path / "a.sqlite", tmp_path / "b.sqlite"], as_of=AS_OF, level="市")
    city_book = write_summary(city, tmp_path / "city.xlsx")
    union_book = write_summary(union, tmp_path / "union.xlsx")
    for sheet in ("企业明细", "乡镇汇总", "行业汇总", "县区汇总", "逾期隐患", "重大隐患", "重点检查企业"):
        a = read_excel(city_book, sheet_name=sheet)
        b = read_excel(union_book, sheet_name=sheet)
        sort = list(a.columns[:2])
        pd.testing.assert_frame_equal(a.sort_values(sort).reset_index(drop=True), b.sort_values(sort).reset_index(drop=True),
                                      check_dtype=False)
    assert city.trend == union.trend
    majors = read_excel(city_book, sheet_name="重大隐患")  # 上报日期 survives county → city
    assert majors["上报日期"].notna().any() and len(majors) == city.totals().sums["major_open"]
    county_totals = [read_summary(p).totals() for p in county_books]
    assert city.totals().sums == {k: sum(t.sums[k] for t in county_totals) for k in city.totals().sums}
    # and the province level from the city summary has the same shape and totals
    province = combine([read_summary(city_book)], "省")
    assert province.totals().sums == city.totals().sums


def test_as_of_gives_the_state_on_that_day(county):
    tmp, _, _ = county
    earlier = rollup_archives([tmp / "a.sqlite"], as_of=AS_OF - timedelta(days=100))
    now = rollup_archives([tmp / "a.sqlite"], as_of=AS_OF)
    assert len(earlier.enterprises) < len(now.enterprises)  # some had not submitted yet
    assert all(e.last_submission <= (AS_OF - timedelta(days=100)).isoformat() for e in earlier.enterprises)


def test_rollup_and_roster_commands(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["roster", "-o", str(tmp_path / "名单.xlsx")]).exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "名单.xlsx")
    ws = wb.active
    for r, i in enumerate((1, 2, 3), start=2):
        ws.cell(row=r, column=1, value=f"企业{i:03d}")
        ws.cell(row=r, column=2, value=uscc(i))
        ws.cell(row=r, column=4, value=TOWNSHIPS[i % 3])
    ws.cell(row=5, column=2, value="91411121000000000X")  # invalid: skipped with a warning
    wb.save(tmp_path / "名单.xlsx")
    build_archive(tmp_path / "档案.sqlite", tmp_path, (1, 2))
    result = runner.invoke(cli, ["rollup", "--archive", str(tmp_path), "--roster", str(tmp_path / "名单.xlsx"),
                                 "--as-of", "2026-11-28", "-o", str(tmp_path / "汇总"), "--title", "舞阳县汇总"])
    assert result.exit_code == 0, result.output
    assert "第 5 行" in result.output and "应报 3 家，已报 2 家" in result.output
    files = sorted(p.name for p in (tmp_path / "汇总").iterdir())
    assert files == ["汇总_县级_2026-11-28.xlsx", "汇总报告_县级_2026-11-28.docx"]
    import docx

    text = "\n".join(p.text for p in docx.Document(tmp_path / "汇总" / files[1]).paragraphs)
    assert "舞阳县汇总" in text and "应报送企业 3 家，已报送 2 家" in text
    up = runner.invoke(cli, ["rollup", "--from", str(tmp_path / "汇总" / files[0]), "--as-of", "2026-11-28",
                             "-o", str(tmp_path / "市"), "--no-report"])
    assert up.exit_code == 0, up.output
    assert (tmp_path / "市" / "汇总_市级_2026-11-28.xlsx").exists()


def test_report_tables_are_capped_and_point_to_the_workbook(county, tmp_path, monkeypatch):
    import docx

    from dpsheets.county import summary_report as rollup_report

    _, result, _ = county
    monkeypatch.setattr(rollup_report, "TABLE_LIMIT", 5)
    path = rollup_report.write_report(result, tmp_path / "r.docx", "县汇总")
    text = "\n".join(p.text for p in docx.Document(path).paragraphs)
    more = len(result.enforcement()) - 5
    assert f"另有 {more} 家，见汇总表“重点检查企业”" in text
    cells = [c.text for t in docx.Document(path).tables for row in t.rows for c in row.cells]
    assert any("计分：每项 40 分。" in c for c in [text, *cells])  # the rules say how they are scored
    top = result.enforcement()[0]
    assert any(c.startswith(f"{top.score:g} 分：") for c in cells)  # the most severe first, with its 分值
