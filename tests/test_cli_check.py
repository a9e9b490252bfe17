"""`dpsheets check` and `dpsheets demo` through click's CliRunner, on real files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import zipfile

import openpyxl
import pytest
from builders import edit, invalid_workbook, valid_workbook
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.feedback.highlight import RESULT_SHEET


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_exit_codes(tmp_path):
    good = valid_workbook(tmp_path / "good.xlsx")
    bad, _ = invalid_workbook(tmp_path / "bad.xlsx")
    assert run("check", good, "--as-of", "2026-11-28").exit_code == 0
    assert run("check", bad, "--as-of", "2026-11-28").exit_code == 1
    assert run("check", good, tmp_path / "missing.xlsx", "--as-of", "2026-11-28").exit_code == 2


def test_json_shape(tmp_path):
    bad, expected = invalid_workbook(tmp_path / "bad.xlsx")
    result = run("check", bad, tmp_path / "nope.xlsx", "--json", "--as-of", "2026-11-28", "--no-highlight")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(bad), str(tmp_path / "nope.xlsx")]
    first, second = lines
    assert first["valid"] is False and second["valid"] is False and second["error"]["code"] == "file.missing"
    assert sorted(((p["code"], p["cell"]) for p in first["problems"]), key=str) == expected
    for p in first["problems"]:
        assert set(p) >= {"code", "severity", "sheet", "row", "column", "cell", "message"}
        assert p["severity"] in ("error", "warning", "finding")


def test_original_unchanged_and_highlighted_copy_marks_every_wrong_cell(tmp_path):
    bad, expected = invalid_workbook(tmp_path / "bad.xlsx")
    before = _sha(bad)
    out = tmp_path / "out"
    result = run("check", bad, "--as-of", "2026-11-28", "-o", out)
    assert result.exit_code == 1
    assert _sha(bad) == before
    copy = out / "bad_检查结果.xlsx"
    assert copy.exists() and str(copy) in result.output
    wb = openpyxl.load_workbook(copy)
    data = json.loads(run("check", bad, "--json", "--as-of", "2026-11-28", "--no-highlight").stdout)
    for p in data["problems"]:
        if not p["cell"] or p["severity"] == "finding":
            continue
        cell = wb[p["sheet"]][p["cell"]]
        assert cell.comment is not None and p["message"] in cell.comment.text, p
        assert cell.fill.fgColor.rgb in ("00FFC7CE", "00FFEB9C"), p
    overdue = next(p for p in data["problems"] if p["code"] == "hazard.overdue")
    soon = next(p for p in data["problems"] if p["code"] == "hazard.due-soon")
    hz = wb[overdue["sheet"]]
    assert hz.cell(row=overdue["row"], column=2).fill.fgColor.rgb == "00FF0000"
    assert hz.cell(row=soon["row"], column=2).fill.fgColor.rgb == "00FFC000"
    results = wb[RESULT_SHEET]
    assert results.max_row - 3 == len(data["problems"])
    links = [c.hyperlink.location for c in results["C"] if c.hyperlink]
    assert f"'{overdue['sheet']}'!{overdue['cell']}" in links


def test_highlighted_copy_goes_beside_the_original_by_default(tmp_path):
    good = valid_workbook(tmp_path / "厂.xlsx")
    run("check", good, "--as-of", "2026-11-28")
    assert (tmp_path / "厂_检查结果.xlsx").exists()


def test_folder_argument_checks_every_workbook_once(tmp_path):
    for i in range(3):
        valid_workbook(tmp_path / f"企业{i}.xlsx", seed=i)
    shutil.copy(tmp_path / "企业0.xlsx", tmp_path / "~$企业0.xlsx")
    result = run("check", tmp_path, "--json", "--no-highlight", "--as-of", "2026-11-28")
    files = [json.loads(line)["file"] for line in result.stdout.splitlines()]
    assert len(files) == 3 and not any("~$" in f for f in files)


def test_bad_as_of_is_explained(tmp_path):
    result = CliRunner().invoke(cli, ["check", "x.xlsx", "--as-of", "昨天"])
    assert result.exit_code == 2 and "不是日期" in result.output


def test_demo_runs_offline_and_explains(tmp_path):
    result = run("demo", "-o", tmp_path / "demo", "--as-of", "2026-11-28")
    assert result.exit_code == 0, result.output
    assert "风险等级" in result.output and "逾期" in result.output and "标注副本" in result.output
    assert (tmp_path / "demo" / "示例台账_宏达机械_检查结果.xlsx").exists()
    assert (tmp_path / "demo" / "空白台账模板.xlsx").exists()


def test_empty_folder_is_explained(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 2 and "没有找到 .xlsx" in result.stderr


def test_brief_prints_one_line_per_file(tmp_path):
    for i in range(3):
        valid_workbook(tmp_path / f"企业{i}.xlsx", seed=i)
    result = run("check", tmp_path, "--brief", "--no-highlight", "--as-of", "2026-11-28")
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 4 and lines[-1].startswith("共 3 个文件：通过 3")
    assert all("错误 0 处" in line for line in lines[:3])


def test_bracketed_file_names_print_as_they_are(tmp_path):
    path = valid_workbook(tmp_path / "台账[bold][2].xlsx")
    result = run("check", path, "--as-of", "2026-11-28", "--brief")
    assert "台账[bold][2].xlsx" in result.output
    missing = CliRunner().invoke(cli, ["check", str(tmp_path / "[red]无.xlsx")])
    assert "[red]无.xlsx" in missing.output


HEAVY = ("matplotlib", "docxtpl", "docx", "pandas", "numpy", "starlette", "sqlalchemy", "uvicorn", "jinja2", "alembic",
         "stdnum", "PIL", "rich")
# What `dpsheets check` imports only when it needs it (start-up time is mostly imports): openpyxl for the
# highlighted copy, logging when something fails, tomllib for a dpsheets.toml, json for --json, sqlite3 and
# tempfile for the county and the copy, difflib to suggest a spelling.
NOT_FOR_CHECK = (*HEAVY, "openpyxl", "lxml", "logging", "sqlite3", "tomllib", "json", "difflib", "tempfile", "hashlib",
                 "csv", "dpsheets.web", "dpsheets.county", "dpsheets.documents.render", "dpsheets.feedback.highlight",
                 "dpsheets.feedback.tables")


def _loaded_after(*lines: str) -> set[str]:
    """The modules of NOT_FOR_CHECK that a fresh interpreter loads running *lines* of code, where
    ``check(*args)`` runs ``dpsheets check`` (modules loaded before, e.g. by the site's .pth files, do not count)."""
    import subprocess
    import sys

    probe = "\n".join([
        "import sys", "before = set(sys.modules)",
        "def check(*args):",
        "    from dpsheets.cli import cli",
        "    try:",
        "        cli.main(['check', *map(str, args), '--as-of', '2026-11-28'], standalone_mode=False)",
        "    except SystemExit:",
        "        pass",
        *lines,
        f"print('LOADED:' + ' '.join(m for m in {NOT_FOR_CHECK!r} if m in sys.modules and m not in before))"])
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.rsplit("LOADED:", 1)[1].split())


def test_check_imports_only_what_it_uses(tmp_path):
    """Start-up time is mostly imports: `dpsheets check` loads no document, web, data-frame, database or
    terminal library (not rich: its lines are printed by dpsheets.feedback.terminal), and openpyxl only
    to write the highlighted copy (a real assertion, not a timing; benchmarks/bench_check.py times it)."""
    good = valid_workbook(tmp_path / "good.xlsx")
    assert _loaded_after("import dpsheets.cli") == set()
    assert _loaded_after(f"check({str(good)!r}, '--no-highlight')") == set()
    assert _loaded_after(f"check({str(good)!r}, {str(tmp_path / 'missing.xlsx')!r}, '--no-highlight', '--brief')") == set()
    copied = _loaded_after(f"check({str(good)!r}, '-o', {str(tmp_path / 'out')!r})")
    assert "openpyxl" in copied and copied & {*HEAVY} == set(), copied


def test_pictures_in_the_workbook_stay_in_the_copy(tmp_path):
    """openpyxl is imported without Pillow (it needs it only for pictures); a workbook with a picture
    (a hazard's photo) still keeps it in its copy, also after a check of one without, in one process."""
    from openpyxl.drawing.image import Image as Picture
    from PIL import Image

    plain = valid_workbook(tmp_path / "plain.xlsx")
    photo_file = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (200, 0, 0)).save(photo_file)
    photo = edit(valid_workbook(tmp_path / "photo.xlsx"),
                 lambda wb: wb["隐患排查治理清单"].add_image(Picture(str(photo_file)), "T5"))
    out = tmp_path / "out"
    loaded = _loaded_after(f"check({str(plain)!r}, '-o', {str(out)!r})", "assert 'PIL' not in sys.modules",
                           f"check({str(photo)!r}, '-o', {str(out)!r})")
    assert {"openpyxl", "PIL"} <= loaded
    with zipfile.ZipFile(out / "photo_检查结果.xlsx") as z:
        assert [n for n in z.namelist() if n.startswith("xl/media/")] == ["xl/media/image1.png"]
    with zipfile.ZipFile(out / "plain_检查结果.xlsx") as z:
        assert not [n for n in z.namelist() if n.startswith("xl/media/")]


def test_printed_text_is_literal_and_coloured_only_on_a_terminal(monkeypatch):
    """Lines are printed without rich: markup and emoji codes stay literal, control characters from a cell
    are shown as \\x1B (they must not move the cursor or recolour the terminal), colours only on a terminal."""
    from io import StringIO

    from dpsheets.feedback.terminal import Out

    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    for name in ("FORCE_COLOR", "NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    piped, terminal = StringIO(), Terminal()
    for stream in (piped, terminal):
        Out(stream).print("企业 ", ("bold", "宏达[/b]机械:warning:"), "：\x1b[2J\r\x07", ("red", ""))
    assert piped.getvalue() == "企业 宏达[/b]机械:warning:：\\x1B[2J\\x0D\\x07\n"
    assert terminal.getvalue() == "企业 \x1b[1m宏达[/b]机械:warning:\x1b[0m：\\x1B[2J\\x0D\\x07\n"
    monkeypatch.setenv("NO_COLOR", "1")
    assert Out(Terminal()).text(("bold red", "错误：")) == "错误："
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert Out(StringIO()).text(("bold red", "错误："), "x") == "\x1b[1;31m错误：\x1b[0mx"


def test_a_panicking_workbook_prints_only_its_chinese_reason(tmp_path):
    """RUST_BACKTRACE set in the clerk's environment: `dpsheets check` of a workbook that makes calamine
    panic (a date cell of -1e12) prints the Chinese reason and exits 2, without Rust's panic message or
    pages of frames before it."""
    import os
    import subprocess
    import sys

    from builders import date_out_of_range

    bad = date_out_of_range(valid_workbook(tmp_path / "good.xlsx"), tmp_path / "date.xlsx")
    done = subprocess.run([sys.executable, "-m", "dpsheets", "check", str(bad), "--as-of", "2026-11-28"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "RUST_BACKTRACE": "full"})
    assert done.returncode == 2
    assert "超出范围的日期数值" in done.stdout and done.stderr == ""


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="held back only where there is an in-memory file (Linux)")
def test_what_a_read_writes_to_stderr_is_passed_on_unless_it_failed(capfd):
    from dpsheets.pipeline import native_stderr_held

    def read(fail: bool) -> str:
        os.write(2, b"from native code\n")
        sys.stderr.write("from Python\n")
        if fail:
            raise ValueError("a panic, now the file's message")
        return "rows"

    assert native_stderr_held(lambda: read(False)) == "rows"
    assert sorted(capfd.readouterr().err.splitlines()) == ["from Python", "from native code"]
    with pytest.raises(ValueError):
        native_stderr_held(lambda: read(True))
    assert "from native code" not in capfd.readouterr().err  # (Python's own line too, where sys.stderr is descriptor 2)
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"  # descriptor 2 is itself again
