"""The hazard state is declared once (dpsheets/rules/hazard_state.py): the Python evaluation, the
SQL of the roll-up (run in real SQLite) and the Excel formula of the template (recalculated by real
LibreOffice) agree on random hazards and random as-of dates; the quarterly statistics agree with
the checks; the template's conditional formats are the generated formulas with due_soon_days."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
from datetime import date, timedelta

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpsheets.config import Config
from dpsheets.documents.render import soffice
from dpsheets.rules import hazard_state as hs
from dpsheets.rules.stats import Period, hazard_stats
from dpsheets.workbook.registers import HAZARD, HAZARD_STATUSES, column_letter
from dpsheets.workbook.template import HEADER_ROW, write_workbook

BASE = date(2026, 11, 1)
days = st.integers(-12, 12).map(lambda n: BASE + timedelta(days=n))
hazards = st.fixed_dictionaries({
    "status": st.sampled_from((*HAZARD_STATUSES, None)),
    "deadline": st.none() | days,
    "completed_on": st.none() | days,
})
NAMES = tuple(hs.PREDICATES)


def _sql_values(db: sqlite3.Connection, hazard: dict, as_of: date, n: int) -> dict[str, bool]:
    db.execute("DELETE FROM hazards")
    db.execute("INSERT INTO hazards VALUES (?, ?, ?)",
               (hazard["status"], *(d.isoformat() if d else None for d in (hazard["deadline"], hazard["completed_on"]))))
    row = db.execute("SELECT " + ", ".join(hs.sql(name, {"status": "h.status", "deadline": "h.deadline",
                                                         "completed_on": "h.completed_on"})
                                           for name in NAMES) + " FROM hazards h", hs.sql_params(as_of, n)).fetchone()
    assert None not in row, "a generated SQL predicate gave NULL"
    return dict(zip(NAMES, map(bool, row), strict=True))


def _libreoffice_values(tmp_path, cases: list[tuple[dict, date, int]]) -> list[dict[str, bool]]:
    """Write each case as a row with one generated formula per predicate; LibreOffice recalculates."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["status", "deadline", "completed_on", "as_of", *NAMES])
    for r, (hazard, as_of, n) in enumerate(cases, start=2):
        ws.append([hazard["status"], hazard["deadline"], hazard["completed_on"], as_of])
        cells = {"status": f"$A{r}", "deadline": f"$B{r}", "completed_on": f"$C{r}"}
        for c, name in enumerate(NAMES, start=5):
            ws.cell(row=r, column=c, value="=" + hs.excel(name, cells, due_soon_days=n, today=f"$D{r}"))
    path = tmp_path / "states.xlsx"
    wb.save(path)
    exe = soffice()
    subprocess.run([exe, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=120)
    with open(tmp_path / "states.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    assert len(rows) == len(cases)
    out = []
    for row in rows:
        values = row[4:4 + len(NAMES)]
        assert set(values) <= {"TRUE", "FALSE"}, f"LibreOffice could not evaluate a formula: {values}"
        out.append({name: v == "TRUE" for name, v in zip(NAMES, values, strict=True)})
    return out


needs_libreoffice = pytest.mark.skipif(soffice() is None and os.environ.get("CI") != "true",
                                       reason="LibreOffice (libreoffice-calc-nogui) is not installed")


@needs_libreoffice
def test_python_sql_and_excel_agree_on_random_hazards(tmp_path):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE hazards (status TEXT, deadline TEXT, completed_on TEXT)")
    cases: list[tuple[dict, date, int, dict[str, bool]]] = []

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(hazard=hazards, as_of=days, n=st.integers(0, 7))
    def python_equals_sql(hazard, as_of, n):
        python = {name: hs.holds(name, hazard, as_of, n) for name in NAMES}
        assert _sql_values(db, hazard, as_of, n) == python, (hazard, as_of, n)
        state = hs.hazard_state(hazard, as_of, n)
        assert (state.closed, state.overdue, state.due_soon, state.closed_late) == (
            python["closed"], python["overdue"], python["due_soon"], python["closed_late"])
        cases.append((hazard, as_of, n, python))

    python_equals_sql()
    excel = _libreoffice_values(tmp_path, [(h, a, n) for h, a, n, _ in cases])
    wrong = [(h, a, n, p, e) for (h, a, n, p), e in zip(cases, excel, strict=True) if p != e]
    assert not wrong, wrong[:3]
    # the random hazards reached every state
    for name in NAMES:
        assert {p[name] for *_, p in cases} == {True, False}, name


def test_sql_is_portable():
    """No SQLite-only syntax: PostgreSQL has no ``IS NOT 'x'``, and cannot SUM booleans."""
    for name in NAMES:
        text = hs.sql(name)
        assert " IS NOT '" not in text and "julianday" not in text and "date(" not in text.lower()
        assert hs.sql_count(name).startswith("SUM(CASE WHEN ")


def test_domain_examples():
    as_of = date(2026, 11, 28)
    late_but_waiting = {"status": "待验收", "deadline": date(2026, 11, 20), "completed_on": date(2026, 11, 21)}
    in_time_in_progress = {"status": "整改中", "deadline": date(2026, 11, 20), "completed_on": date(2026, 11, 19)}
    assert hs.hazard_state(late_but_waiting, as_of).overdue
    assert not hs.hazard_state(in_time_in_progress, as_of).overdue
    no_deadline = {"status": "整改中", "deadline": None, "completed_on": None}
    assert hs.hazard_state(no_deadline, as_of) == hs.HazardState(False, False, False, False, 0)
    on_deadline = {"status": "待整改", "deadline": as_of + timedelta(days=5), "completed_on": None}
    assert not hs.hazard_state(on_deadline, as_of, 4).due_soon and hs.hazard_state(on_deadline, as_of, 5).due_soon
    assert hs.hazard_state(on_deadline, as_of, 5).days == 5


@pytest.mark.parametrize("due_soon_days", [3, 7])
def test_template_conditional_formats_are_the_generated_formulas(tmp_path, due_soon_days):
    path = write_workbook(tmp_path / "t.xlsx", due_soon_days=due_soon_days)
    ws = openpyxl.load_workbook(path)[HAZARD.sheet]
    index = {f.key: i for i, f in enumerate(HAZARD.fields)}
    row = HEADER_ROW + 2
    cells = {key: f"${column_letter(index[key])}{row}" for key in hs.FIELDS}
    formulas = [f for cf in ws.conditional_formatting for rule in cf.rules for f in rule.formula]
    assert hs.excel("overdue", cells, due_soon_days=due_soon_days) in formulas
    assert hs.excel("due_soon", cells, due_soon_days=due_soon_days) in formulas
    assert f"TODAY()+{due_soon_days})" in hs.excel("due_soon", cells, due_soon_days=due_soon_days)
    assert not [f for f in formulas if "TODAY()" in f and f not in (hs.excel("overdue", cells, due_soon_days=due_soon_days),
                                                                    hs.excel("due_soon", cells, due_soon_days=due_soon_days))]
    instructions = " ".join(str(c.value) for c in openpyxl.load_workbook(path).worksheets[0]["A"] if c.value)
    assert f"{due_soon_days} 天内到期" in instructions


# --- the quarterly statistics use the same state -----------------------------------------------------

Q3 = Period.quarter(2026, 3)  # 2026-07-01 … 2026-09-30


def _h(status, deadline, completed=None, found=date(2026, 7, 10), level="一般隐患"):
    return {"status": status, "deadline": deadline, "completed_on": completed, "found_on": found, "level": level,
            "funds": None}


def test_in_progress_completed_before_deadline_is_not_overdue_at_quarter_end():
    h = _h("整改中", date(2026, 8, 31), completed=date(2026, 8, 20))
    assert not hs.hazard_state(h, Q3.end).overdue
    stats = hazard_stats([h], Q3)
    assert stats.open_at_end == 1 and stats.overdue_at_end == 0


def test_closed_after_quarter_end_was_overdue_at_its_end():
    h = _h("已销号", date(2026, 9, 10), completed=date(2026, 10, 5))
    stats = hazard_stats([h], Q3)
    assert (stats.open_at_end, stats.overdue_at_end) == (1, 1)
    assert hazard_stats([_h("已销号", date(2026, 9, 10), completed=date(2026, 9, 5))], Q3).open_at_end == 0


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from((*HAZARD_STATUSES, None)),
       deadline=st.none() | st.dates(date(2026, 6, 1), date(2026, 10, 31)),
       completed=st.none() | st.dates(date(2026, 6, 1), Q3.end))
def test_statistics_at_quarter_end_agree_with_the_checks(status, deadline, completed):
    """For a register as it stood at the quarter's end, 'overdue at end' is the checks' overdue,
    except hazards completed late and waiting for acceptance, which the form counts as rectified late."""
    h = _h(status, deadline, completed, found=date(2026, 6, 1))
    overdue = hs.hazard_state(h, Q3.end, Config().due_soon_days).overdue
    stats = hazard_stats([h], Q3)
    rectified_late = status in ("待验收", "已销号") and completed is not None and deadline is not None and completed > deadline
    assert stats.overdue_at_end == (overdue and not rectified_late)
    if stats.rectified:
        assert stats.rectified_late == hs.holds("completed_late", h, Q3.end)


def test_the_field_reference_states_each_predicate_in_words():
    from dpsheets.workbook.fieldsdoc import DOC_FILE

    headers = {key: HAZARD[key].header for key in hs.FIELDS}
    doc = DOC_FILE.read_text(encoding="utf-8")
    for name in NAMES:
        assert f"| {hs.LABELS[name]} | `{name}` | {hs.describe(name, headers)} |" in doc
    assert all(h in hs.describe("overdue", headers) for h in headers.values())
