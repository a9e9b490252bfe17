"""The county library (`dpsheets.County`), the public names of `import dpsheets`, and the README's Python example."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from builders import small_workbook, valid_workbook
from click.testing import CliRunner

import dpsheets
from dpsheets.cli import cli
from dpsheets.county.county import County, OutputNames, archive_path, rollup
from dpsheets.county.roster import write_template
from dpsheets.errors import EXIT_CODES, DpsheetsError
from dpsheets.workbook.samples import valid_uscc

README = Path(__file__).resolve().parents[1] / "README.md"
AS_OF = date(2026, 11, 28)


def readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## 在 Python 里使用", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs_as_written(tmp_path, monkeypatch):
    code = readme_example()
    assert len([line for line in code.splitlines() if line.strip() and not line.startswith(("import", "from"))]) <= 5
    monkeypatch.chdir(tmp_path)
    valid_workbook(tmp_path / "台账.xlsx")
    (tmp_path / "舞阳县" / "收件箱").mkdir(parents=True)
    for i in (1, 2):
        small_workbook(tmp_path / "舞阳县" / "收件箱" / f"企业{i}.xlsx", i)
    roster = write_template(tmp_path / "企业名单.xlsx")
    wb = openpyxl.load_workbook(roster)
    for r, i in enumerate((1, 2, 3), start=2):
        wb.active.cell(row=r, column=1, value=f"测试企业{i:04d}")
        wb.active.cell(row=r, column=2, value=valid_uscc(f"9141112100{i:07d}"))
    wb.save(roster)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - the README's code, as a user runs it
    assert namespace["report"].counts() == {"error": 0, "warning": 0, "finding": namespace["report"].counts()["finding"]}
    assert sorted(os.listdir(tmp_path / "舞阳县" / "已处理")) == ["企业1.xlsx", "企业2.xlsx"]
    book = openpyxl.load_workbook(tmp_path / "汇总" / "汇总_县级_2026-11-28.xlsx")
    assert book["未报送企业"].max_row == 2 and book["企业明细"].max_row == 3


def test_public_names():
    for name in ("check", "pipeline", "County", "Config", "load_config", "DpsheetsError"):
        assert name in dpsheets.__all__ and hasattr(dpsheets, name)


def test_the_county_owns_its_folder_archive_and_output_names(tmp_path):
    root = tmp_path / "县"
    county = County(root)
    assert not root.exists()  # nothing is created before it is needed
    with pytest.raises(DpsheetsError) as missing:
        county.rollup(AS_OF)
    assert missing.value.code == "archive.missing" and missing.value.exit_code == 2
    small_workbook(tmp_path / "a.xlsx", 1)
    root.mkdir()
    county.layout.create()
    (tmp_path / "a.xlsx").rename(county.layout.inbox / "a.xlsx")
    seen = []
    outcomes = county.ingest(as_of=AS_OF, documents=False, progress=lambda i, n, p: seen.append((i, n, p.name)))
    assert [o.destination for o in outcomes] == ["已处理"] and seen == [(0, 1, "a.xlsx")]
    feedback = next(county.layout.feedback.iterdir())
    assert sorted(p.name for p in feedback.iterdir()) == ["a_检查结果.xlsx", "检查报告.txt"]
    assert "a.xlsx" in (feedback / "检查报告.txt").read_text(encoding="utf-8")
    uscc = valid_uscc("91411121000000001")
    assert [s.file_name for s in county.history(uscc.lower())] == ["a.xlsx"]
    assert county.latest(uscc).uscc == uscc
    with pytest.raises(DpsheetsError) as unknown:
        county.latest(uscc, date(2020, 1, 1))
    assert unknown.value.code == "archive.unknown"
    summary = county.rollup(AS_OF)
    names = OutputNames.of(summary)
    assert county.write_summary(summary, tmp_path / "out") == tmp_path / "out" / names.summary == \
        tmp_path / "out" / "汇总_县级_2026-11-28.xlsx"
    assert County.open(root).archive_path == County.open(root / "档案.sqlite").archive_path == archive_path(root)
    county.close()


def test_summaries_and_archives_do_not_mix(tmp_path):
    with pytest.raises(DpsheetsError) as exc:
        rollup(as_of=AS_OF, archives=[tmp_path], summaries=[tmp_path / "x.xlsx"])
    assert exc.value.code == "rollup.mixed-inputs"


def test_exit_codes_are_documented_in_help_and_readme():
    help_text = CliRunner().invoke(cli, ["--help"]).output
    readme = README.read_text(encoding="utf-8")
    for code, text in EXIT_CODES.items():
        assert re.search(rf"\b{code}\s+{re.escape(text)}", help_text), code
        assert f"| {code} | {text} |" in readme, code


def test_the_installed_command_exits_with_the_error_code_and_message(tmp_path):
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "dpsheets", "rollup", "--archive", str(tmp_path / "无.sqlite")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert run.returncode == 2 and "找不到档案库" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "dpsheets", "roster", "-o", str(tmp_path / "名单.xlsx")],
                        capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert ok.returncode == 0 and (tmp_path / "名单.xlsx").exists()


def test_the_archive_enforces_a_valid_credit_code(tmp_path):
    from datetime import datetime

    from archive_builders import workbook_data

    from dpsheets.county.archive import Archive
    from dpsheets.rules.problems import Report
    from dpsheets.workbook.samples import plant

    cases = {"archive.invalid-uscc": "91411121000000001X", "archive.no-uscc": None}
    with Archive(tmp_path / "a.sqlite") as a:
        for code, value in cases.items():
            p = plant(AS_OF, uscc=value)
            with pytest.raises(DpsheetsError) as refused:
                a.add_submission(workbook_data(p.enterprise, p.rows), Report(), file_name="x.xlsx", sha256=code,
                                 received_at=datetime(2026, 11, 1, 9))
            assert refused.value.code == code and "无法建档" in refused.value.message
        blank = workbook_data({}, {})
        with pytest.raises(DpsheetsError) as empty:
            a.add_submission(blank, Report(), file_name="y.xlsx", sha256="y", received_at=datetime(2026, 11, 1, 9))
        assert empty.value.code == "archive.no-enterprise"
        assert a.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_ingest_returns_a_workbook_the_archive_refuses_and_writes_no_feedback_for_it(tmp_path):
    root = tmp_path / "县"
    (root / "收件箱").mkdir(parents=True)
    bad = small_workbook(root / "收件箱" / "错码.xlsx", 5)
    wb = openpyxl.load_workbook(bad)
    ws = wb["企业信息"]
    cell = next(row[1] for row in ws.iter_rows(min_row=1, max_col=2) if row[0].value == "统一社会信用代码")
    cell.value = str(cell.value)[:-1] + ("0" if str(cell.value)[-1] != "0" else "1")
    wb.save(bad)
    result = CliRunner().invoke(cli, ["ingest", str(root), "--as-of", AS_OF.isoformat(), "--no-docs"])
    assert result.exit_code == 1 and "退回" in result.output and "校验位不正确" in result.output
    assert sorted(os.listdir(root / "退回")) == ["错码.xlsx", "错码.xlsx.txt"]
    assert "无法建档" in (root / "退回" / "错码.xlsx.txt").read_text(encoding="utf-8")
    assert list((root / "反馈").iterdir()) == []
