"""一题 and 三有五化: each rule of rules/sanyou.py on hand-built registers (no xlsx needed)."""

from __future__ import annotations

from datetime import timedelta

from builders import AS_OF, workbook_data

from dpsheets.config import Config
from dpsheets.rules import sanyou
from dpsheets.rules.findings import find

D = timedelta
POSTS = [{"workshop": "冲压车间", "team": "冲压班", "post": "冲床工"}, {"workshop": "冲压车间", "team": "剪板班", "post": "剪板工"},
         {"workshop": "仓库", "post": "库管员"}]


def codes(data, code):
    return [p for p in find(data, AS_OF, Config()) if p.code == code]


def test_employee_without_confirmation_of_their_post_in_12_months_is_a_finding():
    employees = [{"name": "甲", "workshop": "冲压车间", "post": "冲床工"}, {"name": "乙", "workshop": "冲压车间", "post": "剪板工"},
                 {"name": "丙", "workshop": "仓库", "post": "库管员"}, {"name": "丁", "workshop": "仓库", "post": "库管员"}]
    quiz = [{"date": AS_OF - D(3), "name": "甲", "post": "冲床工"},
            {"date": AS_OF - D(400), "name": "乙", "post": "剪板工"},  # too old
            {"date": AS_OF - D(3), "name": "丙", "post": "冲床工"},  # another post than their own
            {"date": AS_OF - D(364), "name": "丁", "post": "库管员"}]
    data = workbook_data({"post": POSTS, "employee": employees, "quiz": quiz})
    found = codes(data, "quiz.unconfirmed-12m")
    assert [p.cell for p in found] == ["A4", "A5"]  # 乙 and 丙
    assert "乙" in found[0].message and "剪板工" in found[0].message
    assert sanyou.indicators(data, AS_OF, Config())["posts_unconfirmed"] == 1  # nobody confirmed 剪板工
    # no quiz sheet at all: the missing sheet is the warning, not every employee
    assert codes(workbook_data({"post": POSTS, "employee": employees}, missing=("quiz",)), "quiz.unconfirmed-12m") == []


def test_inspection_plan_kept_by_its_own_date_or_by_a_hazard_found_there():
    plans = [
        {"content": "冲床", "location": "冲压车间", "frequency": "每周", "inspector": "甲", "check_type": "日常"},  # hazard 3 days ago
        {"content": "仓库", "location": "仓库", "frequency": "每周", "inspector": "甲", "last_done": AS_OF - D(7)},  # exactly 7
        {"content": "仓库货架", "location": "仓库", "frequency": "每周", "inspector": "甲", "last_done": AS_OF - D(8)},  # 8 > 7
        {"content": "配电", "location": "配电室", "frequency": "每月", "inspector": "甲"},  # never
        {"content": "冲床专项", "location": "冲压车间", "frequency": "每月", "inspector": "甲", "check_type": "专项"},  # other type
        {"content": "消防", "location": "全厂", "frequency": "每日", "inspector": "甲"},  # any place counts, found yesterday
        {"content": "未来", "location": "冲压车间", "frequency": "每日", "inspector": "甲", "check_type": "定期"},  # only a future find
    ]
    hazards = [{"name": "光电失灵", "location": "冲压车间2号冲床", "check_type": "日常", "found_on": AS_OF - D(3)},
               {"name": "灭火器", "location": "焊接车间", "found_on": AS_OF - D(1)},
               {"name": "未来", "location": "冲压车间", "check_type": "定期", "found_on": AS_OF + D(1)}]
    data = workbook_data({"inspection_plan": plans, "hazard": hazards})
    found = codes(data, "plan.no-inspection")
    assert [p.row for p in found] == [5, 6, 7, 9]
    assert "无记录" in found[1].message and str(AS_OF - D(8)) in found[0].message


def test_rewards_posted_in_12_months():
    assert len(codes(workbook_data({"reward": []}), "reward.none-12m")) == 1
    old = [{"date": AS_OF - D(370), "target": "冲压班", "kind": "奖励", "reason": "无违章"}]
    assert len(codes(workbook_data({"reward": old}), "reward.none-12m")) == 1
    recent = old + [{"date": AS_OF - D(30), "target": "甲", "kind": "处罚", "reason": "超速"}]
    assert codes(workbook_data({"reward": recent}), "reward.none-12m") == []
    assert codes(workbook_data({}, missing=("reward",)), "reward.none-12m") == []


def test_every_post_has_its_procedure_content_and_procedures_name_real_posts():
    from dpsheets.rules.checks import check_workbook

    procedures = [{"post": "冲床工", "title": "冲床规程", "steps": "双手按钮"}, {"post": "剪板工", "title": "剪板规程"},  # title only
                  {"post": "门卫", "title": "门卫规程", "steps": "登记"}]
    data = workbook_data({"post": POSTS, "procedure": procedures})
    assert [p.cell for p in codes(data, "procedure.missing")] == ["C4", "C5"]  # 剪板工 (no content), 库管员
    errors = [p for p in check_workbook(data, AS_OF, Config()) if p.code == "procedure.unknown-post"]
    assert [p.cell for p in errors] == ["A5"]


def test_each_workshop_and_team_has_its_responsibility_list():
    units = [{"tier": "车间", "workshop": "冲压车间", "head": "甲", "duties": "管"},
             {"tier": "班组", "workshop": "冲压车间", "team": "冲压班", "head": "乙", "duties": "管"}]
    found = codes(workbook_data({"post": POSTS, "unit_duty": units}), "unit-duty.missing")
    assert [p.message for p in found] == [
        "班组“冲压车间剪板班”在岗位安全责任清单中有岗位，但“车间班组责任清单”中没有它的负责人和安全职责。",
        "车间“仓库”在岗位安全责任清单中有岗位，但“车间班组责任清单”中没有它的负责人和安全职责。"]


def test_areas_with_major_or_significant_risks_carry_intact_signs():
    risks = [{"name": "冲床", "location": "冲压车间", "level": "较大风险"}, {"name": "喷漆房", "location": "喷涂车间", "level": "重大风险"},
             {"name": "货架", "location": "仓库", "level": "低风险"}, {"name": "气瓶", "location": "焊接车间", "level": "较大风险"}]
    signs = [{"location": "冲压车间2号冲床旁", "name": "当心机械伤人", "state": "完好"},
             {"location": "焊接车间", "name": "禁止烟火", "state": "缺失"}]
    data = workbook_data({"risk": risks, "sign": signs})
    missing = codes(data, "sign.missing-area")
    assert [p.message[:6] for p in missing] == ["“喷涂车间”", "“焊接车间”"]  # a missing sign does not count
    assert "重大风险" in missing[0].message
    assert [p.cell for p in codes(data, "sign.damaged")] == ["E4"]
    counts = sanyou.indicators(data, AS_OF, Config())
    assert counts["areas_without_signs"] == 2 and counts["signs_bad"] == 1 and counts["signs"] == 2


# --- printed where the guidance says it is posted -----------------------------------------------

def _text(path) -> str:
    import docx

    d = docx.Document(path)
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_card_board_and_duty_lists_print_the_new_sheets(tmp_path):
    from builders import plant_data

    from dpsheets.documents.render import render_all

    data = plant_data(posts=3, employees=3)
    out = render_all(data, tmp_path, as_of=AS_OF, kinds=("cards", "board", "duty_lists"))
    assert out.errors == []
    cards, board, duties = (_text(f) for f in out.files)
    steps = data.records("procedure")[0]["steps"].split("\n")[0]
    assert steps in cards and "《车工安全操作规程》" in cards and "禁止事项：严禁" in cards  # content, not only the title
    assert "《钻工安全操作规程》" in cards  # the last post has no content: its title from the post register
    assert "三、奖惩考核（近 12 个月）" in board and "连续三个月无违章" in board and "叉车超速行驶" in board
    assert "四、警示标志设置（按区域）" in board and "当心机械伤人×2" in board
    assert "车间安全责任清单" in duties and "班组安全责任清单" in duties and "机加工车间车工班" in duties
    assert duties.index("班组安全责任清单") < duties.index("本人已知晓")  # from the workshop to the team to each person


def test_quarterly_table_printed_after_its_deadline_says_so(tmp_path):
    from builders import plant_data

    from dpsheets.documents.render import render_all
    from dpsheets.rules.stats import Period

    data = plant_data()
    q3 = Period.quarter(2026, 3)
    on_time = _text(render_all(data, tmp_path / "a", as_of=q3.report_due, kinds=("quarterly",), period=q3).files[0])
    late = _text(render_all(data, tmp_path / "b", as_of=AS_OF, kinds=("quarterly",), period=q3).files[0])
    assert "今天（2026年10月15日）是本表的报送期限" in on_time and "逾期报送" not in on_time
    assert "已超过报送期限（2026年10月15日）44 天，属逾期报送" in late
