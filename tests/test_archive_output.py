"""`archive list|show|history` for scripts: --json, --csv, whole credit codes through a pipe, names printed literally."""

from __future__ import annotations

import csv
import io
import json

import pytest
from builders import AS_OF, small_workbook
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.county.county import County

NAMES = ["宏达[/b]机械", "=HYPERLINK(\"http://x\",\"点我\")", "[bold red]红字[/]厂"]


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    root = tmp_path_factory.mktemp("county") / "舞阳县"
    (root / "收件箱").mkdir(parents=True)
    for i, name in enumerate(NAMES, 1):
        small_workbook(root / "收件箱" / f"{i}.xlsx", i, name=name)
    with County(root) as c:
        outcomes = c.ingest(as_of=AS_OF, documents=False)
        assert all(o.destination == "已处理" for o in outcomes), [o.message for o in outcomes]
        codes = [r["uscc"] for r in c.enterprises()]
    return root, codes


def _run(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_piped_list_keeps_every_credit_code_whole_and_every_name_literal(county):
    root, codes = county
    out = _run("archive", "--archive", str(root), "list")
    lines = out.splitlines()
    assert "统一社会信用代码" in lines[0] and len(lines) == 1 + len(NAMES)
    for code in codes:
        assert len(code) == 18 and code in out
    for name in NAMES:
        assert name in out
    assert "…" not in out


def test_list_as_json_and_csv(county):
    root, codes = county
    rows = json.loads(_run("archive", "--archive", str(root), "list", "--json"))
    assert sorted(r["uscc"] for r in rows) == sorted(codes)
    assert sorted(r["name"] for r in rows) == sorted(NAMES)
    table = list(csv.reader(io.StringIO(_run("archive", "--archive", str(root), "list", "--csv"))))
    header, body = table[0], table[1:]
    names = [row[header.index("企业名称")] for row in body]
    assert "'=HYPERLINK(\"http://x\",\"点我\")" in names  # a spreadsheet must not run it
    assert "宏达[/b]机械" in names and sorted(row[header.index("统一社会信用代码")] for row in body) == sorted(codes)


def test_history_and_show_for_scripts(county):
    root, codes = county
    history = json.loads(_run("archive", "--archive", str(root), "history", codes[0], "--json"))
    assert len(history) == 1 and history[0]["valid"] in (True, False) and history[0]["id"] >= 1
    rows = list(csv.reader(io.StringIO(_run("archive", "--archive", str(root), "history", codes[0], "--csv"))))
    assert rows[0][0] == "编号" and len(rows) == 2
    shown = json.loads(_run("archive", "--archive", str(root), "show", codes[0], "--json"))
    assert shown["submission"]["uscc"] == codes[0] and shown["records"]
    rows = list(csv.reader(io.StringIO(_run("archive", "--archive", str(root), "show", codes[0], "--csv"))))
    assert len(rows) == 1 + len(shown["records"])


def test_a_narrow_terminal_folds_rather_than_cuts_and_prints_markup_literally():
    from rich.console import Console

    from dpsheets.feedback.tables import render

    console = Console(file=io.StringIO(), force_terminal=True, width=40, color_system=None)
    rows = [{"uscc": "91411121MA9KXD3R0X", "name": "宏达[/b]机械" * 3}]
    render(rows, [("uscc", "统一社会信用代码"), ("name", "企业名称")], "table", console)
    text = console.file.getvalue()
    assert "…" not in text and "[/b]" in text
    assert "91411121" in text


def test_export_is_atomic_names_an_unwritable_folder_and_follows_the_umask(county, tmp_path):
    import os
    import stat
    import subprocess
    import sys

    from dpsheets.fsutil import UMASK

    root, _ = county
    _run("archive", "--archive", str(root), "export", "-o", str(tmp_path / "ok.xlsx"))
    assert stat.S_IMODE(os.stat(tmp_path / "ok.xlsx").st_mode) == 0o666 & ~UMASK
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:
        assert subprocess.run(["chattr", "+i", str(locked)]).returncode == 0
    else:
        locked.chmod(0o555)
    try:
        done = subprocess.run([sys.executable, "-m", "dpsheets", "archive", "--archive", str(root), "export", "-o",
                               str(locked / "档案导出.xlsx")], capture_output=True, text=True, timeout=60)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(locked)], check=False)
        locked.chmod(0o755)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert str(locked) in done.stderr.replace("\n", "") and "权限" in done.stderr
    assert list(locked.iterdir()) == []


def test_no_name_becomes_a_formula_in_any_output(county, tmp_path):
    """Enterprises named ``=HYPERLINK(…)``: the archive export, the feedback copies, the standard workbook
    `convert` writes and the summary book hold the name as text, never as a formula (issue 14)."""
    import openpyxl

    root, _ = county
    _run("archive", "--archive", str(root), "export", "-o", str(tmp_path / "导出.xlsx"))
    source = next(p for p in (root / "已处理").iterdir() if p.name == "2.xlsx")  # the =HYPERLINK enterprise
    _run("convert", str(source), "-o", str(tmp_path / "标准.xlsx"))
    _run("rollup", "--archive", str(root), "--as-of", AS_OF.isoformat(), "--no-report", "-o", str(tmp_path / "汇总"))
    books = [tmp_path / "导出.xlsx", tmp_path / "标准.xlsx", *(root / "反馈").rglob("2_检查结果.xlsx"),
             *(tmp_path / "汇总").glob("*.xlsx")]
    assert len(books) == 4
    for book in books:
        cells = [c for ws in openpyxl.load_workbook(book) for row in ws.iter_rows() for c in row]
        named = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
        assert named and all(c.data_type == "s" for c in named), (book.name, [(c.coordinate, c.data_type) for c in named])
