"""重点检查企业 ranked by severity (分值), the rules the guidance implies, and 三有五化 in the roll-up.

Every enterprise here is built by hand (archive_builders: straight into the archive, no .xlsx), so each
rule and the order of the ranking are pinned on cases a county chief can check by reading them. The
archive tests run on SQLite and on the real PostgreSQL server (``archive_target``).
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import pandas as pd
import pytest
from archive_builders import at, uscc, workbook_data

from dpsheets.config import Config, RollupRules, config_from_dict
from dpsheets.county.archive import Archive
from dpsheets.county.rollup import MissingRow, rollup_archives
from dpsheets.county.summary_book import write_summary
from dpsheets.county.summary_read import combine, read_summary
from dpsheets.errors import DpsheetsError
from dpsheets.rules import sanyou
from dpsheets.rules.problems import Problem, Report
from dpsheets.workbook.samples import plant

AS_OF = date(2026, 11, 28)
read_excel = functools.partial(pd.read_excel, engine="openpyxl")


def day(days_ago: int) -> date:
    return AS_OF - timedelta(days=days_ago)


def hazard(number: str, *, found: int, deadline: int, level: str = "一般隐患", status: str = "整改中",
           plan: str | None = None, reported: int | None = None) -> dict:
    """An open hazard found *found* days ago, due *deadline* days ago (negative: in the future)."""
    return {"number": number, "name": f"隐患{number}", "location": "机加工车间", "description": "防护罩缺失",
            "category": "物的不安全状态", "level": level, "check_type": "日常", "found_on": day(found), "goal": "恢复防护",
            "measures": "加装防护罩", "deadline": day(deadline), "owner": "张三", "status": status, "plan": plan,
            "reported_on": None if reported is None else day(reported),
            **({"cause": "维护不到位", "severity": "可能致人死亡", "suspended": "是", "supervised": "否"}
               if level == "重大隐患" else {})}


def clean(i: int, county: str = "舞阳县") -> tuple[dict, dict[str, list[dict]]]:
    """An enterprise whose system runs: registers filled, one hazard found 10 days ago and closed, training,
    drill and every employee's confirmation in the last months. Nothing to inspect."""
    p = plant(day(3), seed=i, uscc=uscc(i), name=f"企业{i:02d}", county=county, risks=3, hazards=0, posts=2,
              employees=2)
    rows = {k: [dict(r) for r in v] for k, v in p.rows.items()}
    closed = hazard(f"Y{i}-0", found=10, deadline=-5, status="已销号")
    closed.update(completed_on=day(8), accepted_by="王五", accepted_on=day(7), acceptance="通过")
    rows["hazard"] = [closed]
    rows["quiz"] = [{"date": day(4), "name": e["name"], "post": e["post"], "result": "全部正确", "via": "手机"}
                    for e in rows["employee"]]
    return dict(p.enterprise), rows


def errors(n: int) -> list[Problem]:
    return [Problem("value.required", "error", f"第 {r} 行缺少必填项", "风险管控清单", r, "风险点名称", f"A{r}")
            for r in range(2, 2 + n)]


def archive(target, enterprises: list[tuple[dict, dict, list[Problem]]]) -> None:
    with Archive(target) as a:
        for k, (ent, rows, problems) in enumerate(enterprises):
            a.add_submission(workbook_data(ent, rows), Report(problems), file_name=f"{k}.xlsx",
                             sha256=f"{ent['uscc']}-{k}", received_at=at(day(3)))


def one(target, ent, rows, problems=(), rules: RollupRules | None = None):
    archive(target, [(ent, rows, list(problems))])
    result = rollup_archives([target], as_of=AS_OF, config=Config(rules=rules or RollupRules()))
    (row,) = result.enterprises
    return row


def codes(row) -> list[str]:
    return [b.code for b in row.breaches]


# --- the ranking --------------------------------------------------------------------------------

def ranking_cases(county: str = "舞阳县", first: int = 1) -> tuple[list, list[MissingRow]]:
    """never submitted > open major without report > 3 overdue (53 days, one major) > no training only > clean."""
    never = MissingRow(uscc(first), f"企业{first:02d}", county, "舞泉镇", "机械")
    ent2, major = clean(first + 1, county)
    major["hazard"].append(hazard("M1", found=6, deadline=-20, level="重大隐患", plan="停产整改方案……", reported=None))
    ent3, overdue = clean(first + 2, county)
    overdue["hazard"] += [hazard("O1", found=80, deadline=53, level="重大隐患", plan="治理方案……", reported=70),
                          hazard("O2", found=40, deadline=20), hazard("O3", found=30, deadline=10)]
    ent4, untrained = clean(first + 3, county)
    untrained["training"] = []
    ent5, fine = clean(first + 4, county)
    return [(ent2, major, []), (ent3, overdue, []), (ent4, untrained, []), (ent5, fine, [])], [never]


def test_the_ranking_is_by_severity_on_hand_built_enterprises(archive_target, tmp_path):
    built, roster = ranking_cases()
    archive(archive_target, built)
    result = rollup_archives([archive_target], as_of=AS_OF, roster=roster)
    ranked = result.enforcement()
    assert [r.name for r in ranked] == ["企业01", "企业02", "企业03", "企业04"]  # 企业05 runs: not listed
    assert [[b.code for b in r.breaches] for r in ranked] == [
        ["rule.not-submitted"], ["rule.major-unreported"], ["rule.overdue"], ["rule.no-training"]]
    # the scores, from the default weights: 100; 40 per unreported major; overdue: 3 per hazard + 0.1 per day,
    # the major one doubled: 2 × (3 + 5.3) + (3 + 2.0) + (3 + 1.0) = 25.6; no training 10
    assert [r.score for r in ranked] == [100, 40, 25.6, 10]
    overdue = ranked[2].breaches[0]
    assert dict(overdue.params) == {"count": 3, "max_overdue": 0, "majors": 1, "days": 83, "major_days": 53,
                                    "longest": 53}
    assert overdue.message == "有 3 项逾期未整改隐患（允许 0 项），其中重大隐患 1 项，最长逾期 53 天"
    # the summary shows 分值 and 原因 in that order
    book = write_summary(result, tmp_path / "县.xlsx")
    sheet = read_excel(book, sheet_name="重点检查企业")
    assert sheet["企业名称"].tolist() == ["企业01", "企业02", "企业03", "企业04"]
    assert sheet["分值"].tolist() == [100, 40, 25.6, 10]
    assert sheet["原因"][1] == "有 1 项重大隐患有治理方案但未填写上报日期（rule.major-unreported，40 分）"
    majors = read_excel(book, sheet_name="重大隐患").set_index("隐患编号")
    assert pd.isna(majors.loc["M1", "上报日期"]) and majors.loc["O1", "上报日期"] == day(70).isoformat()


def test_weights_come_from_the_rules_and_change_the_order(tmp_path):
    built, roster = ranking_cases()
    archive(tmp_path / "a.sqlite", built)
    rules = RollupRules(weight_no_training=300, weight_major_unreported=1)
    result = rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF, roster=roster, config=Config(rules=rules))
    assert [(r.name, r.score) for r in result.enforcement()] == [("企业04", 300), ("企业01", 100), ("企业03", 25.6),
                                                               ("企业02", 1)]
    capped = rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF, config=Config(rules=RollupRules(max_overdue_points=7)))
    assert next(r.score for r in capped.enterprises if r.name == "企业03") == 7


def test_city_from_county_summaries_keeps_the_order_and_scores_of_the_archives(tmp_path):
    a_built, a_roster = ranking_cases("舞阳县", 1)
    b_built, b_roster = ranking_cases("临颍县", 11)
    b_built[0][1]["hazard"].append(hazard("M2", found=5, deadline=-9, level="重大隐患", plan=None))  # and without plan
    archive(tmp_path / "a.sqlite", a_built)
    archive(tmp_path / "b.sqlite", b_built)
    # each county with its own weights: the city ranks every enterprise as its county scored it
    rules_b = RollupRules(weight_no_training=45)
    county_a = rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF, roster=a_roster)
    county_b = rollup_archives([tmp_path / "b.sqlite"], as_of=AS_OF, roster=b_roster, config=Config(rules=rules_b))
    books = [write_summary(c, tmp_path / f"县{k}.xlsx") for k, c in enumerate((county_a, county_b))]
    city = combine([read_summary(b) for b in books], "市")
    # ties (the same 分值, rules broken and overdue hazards) by county, then name: 临颍县 before 舞阳县
    assert [(r.name, r.score) for r in city.enforcement()] == [
        ("企业11", 100), ("企业01", 100), ("企业12", 90), ("企业14", 45), ("企业02", 40), ("企业13", 25.6), ("企业03", 25.6),
        ("企业04", 10)]
    decided = {r.uscc: r.breaches for r in county_a.enforcement() + county_b.enforcement()}
    assert all(r.breaches == decided[r.uscc] for r in city.enforcement())  # codes, parameters and points kept
    city_book = write_summary(city, tmp_path / "市.xlsx")
    # the same county archives rolled up straight into a city (same rules) give the same sheet, row by row
    same = rollup_archives([tmp_path / "a.sqlite", tmp_path / "b.sqlite"], as_of=AS_OF, roster=a_roster + b_roster,
                           level="市")
    again = combine([read_summary(write_summary(rollup_archives([tmp_path / f"{n}.sqlite"], as_of=AS_OF, roster=r),
                                                tmp_path / f"同{n}.xlsx")) for n, r in (("a", a_roster), ("b", b_roster))], "市")
    for sheet in ("重点检查企业", "企业明细", "重大隐患", "县区汇总"):
        pd.testing.assert_frame_equal(read_excel(write_summary(again, tmp_path / "合.xlsx"), sheet_name=sheet),
                                      read_excel(write_summary(same, tmp_path / "库.xlsx"), sheet_name=sheet), obj=sheet)
    assert read_excel(city_book, sheet_name="重点检查企业")["分值"].is_monotonic_decreasing


def test_a_hand_edited_score_is_refused_naming_its_cell(tmp_path):
    import openpyxl

    built, roster = ranking_cases()
    archive(tmp_path / "a.sqlite", built)
    book = write_summary(rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF, roster=roster), tmp_path / "县.xlsx")
    wb = openpyxl.load_workbook(book)
    wb["重点检查企业"]["G3"] = 5  # 企业02's 40 points made small
    wb.save(book)
    with pytest.raises(DpsheetsError, match="重点检查企业.*G3"):
        read_summary(book)


def test_weights_and_thresholds_are_validated_with_chinese_messages():
    assert config_from_dict({"rules": {"weight_stale": 80, "min_confirmed_share": 0.5}}).rules.weight_stale == 80
    for rules, text in (({"weight_stale": -1}, "[rules] 中的 weight_stale 应在 0～10000 之间，而不是 -1"),
                        ({"min_confirmed_share": 1.5}, "min_confirmed_share 应在 0～1 之间"),
                        ({"zero_hazard_days": "90"}, "zero_hazard_days 应为整数，如 zero_hazard_days = 90"),
                        ({"major_unreported": "是"}, "major_unreported 应为“true”或“false”"),
                        ({"weight_stal": 1}, "是不是 weight_stale")):
        with pytest.raises(DpsheetsError) as e:
            config_from_dict({"rules": rules})
        assert text in e.value.message, e.value.message


# --- the rules the guidance implies ---------------------------------------------------------------

def test_major_with_plan_but_no_report_date(archive_target):
    ent, rows = clean(20)
    rows["hazard"] += [hazard("A", found=5, deadline=-10, level="重大隐患", plan="方案", reported=None),
                       hazard("B", found=5, deadline=-10, level="重大隐患", plan="方案", reported=2),  # reported
                       hazard("C", found=5, deadline=-10, level="重大隐患", plan=None, reported=None)]  # no plan: other rule
    row = one(archive_target, ent, rows)
    assert (row.major_open, row.major_unreported, row.major_without_plan) == (3, 1, 1)
    assert codes(row) == ["rule.major-without-plan", "rule.major-unreported"]
    assert row.breaches[1].params == {"count": 1} and row.breaches[1].points == 40
    assert row.score == 90


def test_major_unreported_switch(archive_target):
    ent, rows = clean(21)
    rows["hazard"].append(hazard("A", found=5, deadline=-10, level="重大隐患", plan="方案", reported=None))
    assert codes(one(archive_target, ent, rows, rules=RollupRules(major_unreported=False))) == []


@pytest.mark.parametrize(("found", "broken"), [(None, True), (91, True), (90, True), (89, False)])
def test_zero_hazards_for_n_days(archive_target, found, broken):
    ent, rows = clean(22)
    rows["hazard"] = [] if found is None else [dict(rows["hazard"][0], found_on=day(found), completed_on=day(found - 1),
                                                    accepted_on=day(found - 1), deadline=day(found - 5))]
    row = one(archive_target, ent, rows)
    assert ("rule.zero-hazards" in codes(row)) is broken
    if broken:
        b = next(b for b in row.breaches if b.code == "rule.zero-hazards")
        last = "无" if found is None else day(found).isoformat()
        assert b.params == {"zero_hazard_days": 90, "last_found": last}
        assert b.message == f"近 90 天没有发现隐患（最近发现：{last}）" and b.points == 15


def test_zero_hazards_threshold_and_switch(archive_target):
    ent, rows = clean(23)
    rows["hazard"][0].update(found_on=day(40), completed_on=day(39), accepted_on=day(38), deadline=day(30))
    assert codes(one(archive_target, ent, rows, rules=RollupRules(zero_hazard_days=30))) == ["rule.zero-hazards"]
    with Archive(archive_target) as a:
        assert a.count("submissions") == 1
    result = rollup_archives([archive_target], as_of=AS_OF, config=Config(rules=RollupRules(zero_hazard_days=30,
                                                                                             zero_hazards=False)))
    assert result.enterprises[0].breaches == []


@pytest.mark.parametrize(("count", "broken"), [(5, False), (6, True)])
def test_data_errors_above_the_threshold(archive_target, count, broken):
    ent, rows = clean(24)
    row = one(archive_target, ent, rows, errors(count))
    assert row.data_errors == count
    assert codes(row) == (["rule.data-errors"] if broken else [])
    if broken:
        assert row.breaches[0].params == {"count": 6, "max_data_errors": 5}
        assert row.breaches[0].message == "台账有 6 处数据错误（允许 5 处）" and row.score == 20


def test_data_errors_threshold_and_switch(tmp_path):
    ent, rows = clean(25)
    archive(tmp_path / "a.sqlite", [(ent, rows, errors(2))])
    for rules, expected in ((RollupRules(max_data_errors=1), ["rule.data-errors"]),
                            (RollupRules(max_data_errors=1, data_errors=False), [])):
        row = rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF, config=Config(rules=rules)).enterprises[0]
        assert codes(row) == expected


def test_posts_without_any_confirmation_in_12_months(archive_target):
    ent, rows = clean(26)
    first, second = rows["post"][0]["post"], rows["post"][1]["post"]
    rows["quiz"] = [q for q in rows["quiz"] if q["post"] == first]
    rows["quiz"].append({"date": day(400), "name": "老员工", "post": second, "result": "全部正确", "via": "纸质"})  # too old
    row = one(archive_target, ent, rows, rules=RollupRules(low_confirmation=False))
    assert row.posts_unconfirmed == 1 and codes(row) == ["rule.unconfirmed-posts"]
    assert row.breaches[0].params == {"count": 1, "posts": 2, "max_unconfirmed_posts": 0}
    assert row.breaches[0].message == "1 个岗位近 12 个月无人答题确认（共 2 个岗位）"
    # a phone confirmation (dpsheets serve) of the second post counts as well
    employee = next(e for e in rows["employee"] if e["post"] == second)
    with Archive(archive_target) as a:
        a.db.execute("INSERT INTO confirmations (uscc, day, at, name, workshop, post, result, via) VALUES "
                     "(?, ?, ?, ?, ?, ?, '全部正确', '手机')", (ent["uscc"], day(1).isoformat(), f"{day(1)}T08:00:00",
                                                            employee["name"], employee["workshop"], second))
    row = rollup_archives([archive_target], as_of=AS_OF).enterprises[0]
    assert row.posts_unconfirmed == 0 and row.employees_unconfirmed == 0 and codes(row) == []
    off = RollupRules(max_unconfirmed_posts=1)
    with Archive(archive_target) as a:
        a.db.execute("DELETE FROM confirmations")
    assert codes(rollup_archives([archive_target], as_of=AS_OF, config=Config(rules=off)).enterprises[0]) == \
        ["rule.low-confirmation"]


@pytest.mark.parametrize(("confirmed", "broken"), [(3, True), (4, False)])
def test_share_of_employees_who_confirmed_their_post(archive_target, confirmed, broken):
    p = plant(day(3), seed=27, uscc=uscc(27), name="企业27", risks=3, hazards=0, posts=1, employees=5)
    _, rows = clean(27)
    rows.update(post=p.rows["post"], employee=p.rows["employee"], procedure=p.rows["procedure"],
                unit_duty=p.rows["unit_duty"])
    people = rows["employee"]
    rows["quiz"] = [{"date": day(10), "name": e["name"], "post": e["post"], "result": "全部正确", "via": "纸质"}
                    for e in people[:confirmed]]
    rows["quiz"].append({"date": day(10), "name": people[4]["name"], "post": "别的岗位", "result": "全部正确", "via": "纸质"})
    row = one(archive_target, dict(p.enterprise), rows)
    assert row.employees_unconfirmed == 5 - confirmed and row.quiz_coverage == confirmed / 5
    assert codes(row) == (["rule.low-confirmation"] if broken else [])
    if broken:
        assert row.breaches[0].params == {"confirmed": 3, "employees": 5, "share": "60%", "min_confirmed_share": 0.8}
        assert row.breaches[0].message == "近 12 个月只有 3/5 名员工答题确认（60%，要求 80%）"


def test_low_confirmation_threshold_and_switch(tmp_path):
    ent, rows = clean(28)
    rows["quiz"] = rows["quiz"][:1]  # one of two employees; both posts need not be confirmed here
    archive(tmp_path / "a.sqlite", [(ent, rows, [])])
    for rules, expected in ((RollupRules(min_confirmed_share=0.5, unconfirmed_posts=False), []),
                            (RollupRules(min_confirmed_share=0.6, unconfirmed_posts=False), ["rule.low-confirmation"]),
                            (RollupRules(low_confirmation=False, unconfirmed_posts=False), [])):
        row = rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF, config=Config(rules=rules)).enterprises[0]
        assert codes(row) == expected, rules


def test_every_rule_is_explained_with_its_scoring(tmp_path):
    built, roster = ranking_cases()
    archive(tmp_path / "a.sqlite", built)
    rules = RollupRules(zero_hazards=False)
    book = write_summary(rollup_archives([tmp_path / "a.sqlite"], as_of=AS_OF, roster=roster,
                                         config=Config(rules=rules)), tmp_path / "县.xlsx")
    sheet = read_excel(book, sheet_name="规则说明").set_index("规则代码")
    assert "rule.zero-hazards" not in sheet.index  # switched off: not applied, not listed
    assert sheet.loc["rule.major-unreported", "计分"] == "每项 40 分"
    assert sheet.loc["rule.low-confirmation", "说明"].startswith("近 12 个月答题确认过本岗位问题的员工不足 80%")
    assert sheet.loc["rule.data-errors", "说明"].startswith("报送的台账有超过 5 处数据错误")


# --- 三有五化 in the roll-up ----------------------------------------------------------------------

SANYOU = ("employees_unconfirmed", "posts_unconfirmed", "inspection_plans", "rewards_12m", "procedures",
          "unit_duties", "signs")


def test_sanyou_counts_in_sql_equal_the_check(archive_target, tmp_path):
    """The roll-up counts 三有五化 from the typed tables in SQL; the check counts them from the workbook
    (dpsheets.rules.sanyou.indicators): the same numbers, and groups are their sums."""
    datas = []
    with Archive(archive_target) as a:
        for i in range(3):
            p = plant(AS_OF, seed=40 + i, uscc=uscc(40 + i), name=f"企业{40 + i}", posts=3 + i, employees=6 + 5 * i)
            if i == 1:
                p.rows["sign"][0]["count"] = 7
                p.rows["reward"] = p.rows["reward"][:1]
            if i == 2:
                p.rows["inspection_plan"] = []
            data = workbook_data(p.enterprise, p.rows)
            a.add_submission(data, Report([]), file_name=f"{i}.xlsx", sha256=f"s{i}", received_at=at(AS_OF))
            datas.append(data)
    result = rollup_archives([archive_target], as_of=AS_OF)
    for row, data in zip(result.enterprises, datas, strict=True):
        expected = sanyou.indicators(data, AS_OF, Config())
        assert {k: getattr(row, k) for k in SANYOU} == {k: expected[k] for k in SANYOU}, row.name
    assert result.enterprises[0].inspection_plans > 0 and result.enterprises[2].inspection_plans == 0
    book = write_summary(result, tmp_path / "县.xlsx")
    detail = read_excel(book, sheet_name="企业明细")
    totals = read_excel(book, sheet_name="县区汇总").set_index("所属县（市、区）").loc["合计"]
    headers = dict(sanyou.INDICATORS)
    for key in SANYOU:
        assert totals[headers[key]] == detail[headers[key]].sum() == sum(getattr(r, key) for r in result.enterprises)
    back = read_summary(book)
    assert [{k: getattr(r, k) for k in SANYOU} for r in back.enterprises] == \
        [{k: getattr(r, k) for k in SANYOU} for r in result.enterprises]
