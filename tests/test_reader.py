"""Reading what real workbooks contain, and the round trip records → workbook → records."""

from __future__ import annotations

from datetime import date

from builders import AS_OF, messy_workbook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpsheets.pipeline import check
from dpsheets.workbook import normalize as nz
from dpsheets.workbook.reader import read_workbook
from dpsheets.workbook.registers import HAZARD, POST, RISK, FieldType
from dpsheets.workbook.samples import DEMO_USCC
from dpsheets.workbook.template import write_workbook


def test_messy_workbook_is_read_as_meant(tmp_path):
    data = read_workbook(messy_workbook(tmp_path / "messy.xlsx"))
    ent = data.enterprise
    assert ent["name"] == "宏达机械" and ent.cell("name") == "C1"
    assert ent["uscc"] == DEMO_USCC  # lower case folded
    assert ent["phone"] == "13939512345"  # full-width digits and spaces folded
    assert ent["filled_on"] == date(2026, 11, 1)
    posts = data.records("post")
    assert [p["post"] for p in posts] == ["车工", "铣工", "钻工", "磨工"]  # the blank row is skipped
    assert [p["workshop"] for p in posts] == ["机加工车间"] * 4  # the merged 车间 cell fills its rows
    assert posts[1].cell("workshop") == "B6" and posts[3].row == 9
    assert data.sheets["post"].header_row == 4  # two title rows above the header
    hazards = data.records("hazard")
    assert [h["found_on"] for h in hazards] == [date(2026, 9, 23)] * 4
    assert [h["deadline"] for h in hazards] == [date(2026, 10, 23)] * 4
    assert hazards[0]["funds"] == 1200.0 and hazards[0]["number"] is None  # 序号 is a row counter, not 隐患编号
    assert hazards[0].cell("deadline") == "I2"  # 整改时限 is an alternative header of 治理期限
    codes = {(p.code, p.column) for p in data.problems}
    assert ("header.unknown", "自定义列") in codes


def test_messy_workbook_problems_are_only_the_real_ones(tmp_path):
    _, report = check(messy_workbook(tmp_path / "messy.xlsx"), AS_OF)
    codes = {p.code for p in report.problems}
    assert "field.date" not in codes and "field.phone" not in codes and "field.number" not in codes


def test_date_spellings():
    for text in ("2020-9-23", "2020/09/23", "2020.9.23", "2020年9月23日", "20200923", "２０２０－０９－２３",
                 20200923.0, 44097.0, date(2020, 9, 23), "2020-09-23 08:30"):
        assert nz.parse_date(text) == date(2020, 9, 23), text
    for text in ("2020-2-30", "明天", "9/23", "", 3.5):
        assert nz.parse_date(text) is None, text


def test_phone_numbers():
    good = ("13939512345", "0371-67888837", "037167888837", "67888837", "400-810-8888", "0395-7123119、13939512345")
    bad = ("1393951234", "12345", "电话", "23939512345")
    assert all(nz.phone_is_valid(nz.normalize_phone(p)) for p in good)
    assert not any(nz.phone_is_valid(nz.normalize_phone(p)) for p in bad)


def test_uscc_reasons():
    assert nz.uscc_problem(DEMO_USCC) is None
    assert "校验位" in nz.uscc_problem(DEMO_USCC[:-1] + ("0" if DEMO_USCC[-1] != "0" else "1"))
    assert "18 位" in nz.uscc_problem(DEMO_USCC[:-2])
    assert "不允许的字符" in nz.uscc_problem("91411121MA9KXD3RIO")


# --- property: records → workbook → read gives the same records -----------------------------

TEXT = st.text(st.characters(categories=("L", "N", "P"), exclude_characters="\x00"), min_size=1, max_size=20)
DATES = st.dates(date(2000, 1, 1), date(2030, 12, 31))


def _value(f):
    if f.type is FieldType.DATE:
        return DATES
    if f.type is FieldType.NUMBER:
        return st.floats(0, 1e6, allow_nan=False).map(lambda x: round(x, 2))
    if f.type is FieldType.INT:
        return st.integers(0, 10_000)
    if f.type is FieldType.CHOICE:
        return st.sampled_from(f.choices)
    if f.type is FieldType.MULTI:
        return st.lists(st.sampled_from(f.choices), min_size=1, max_size=3).map(tuple)
    if f.type is FieldType.PHONE:
        return st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
    return TEXT.filter(lambda s: s.strip() == s and nz.parse_number(s) is None)


def _rows(register):
    row = st.fixed_dictionaries({f.key: st.one_of(st.none(), _value(f)) for f in register.fields})
    return st.lists(row.filter(lambda r: any(v is not None for v in r.values())), min_size=1, max_size=6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(risks=_rows(RISK), hazards=_rows(HAZARD), posts=_rows(POST))
def test_round_trip(tmp_path, risks, hazards, posts):
    path = write_workbook(tmp_path / "rt.xlsx", {"name": "企业"}, {"risk": risks, "hazard": hazards, "post": posts})
    data = read_workbook(path)
    for key, rows in (("risk", risks), ("hazard", hazards), ("post", posts)):
        assert [r.values for r in data.records(key)] == rows
