"""`dpsheets user …`, `dpsheets serve` and `dpsheets archive confirmations` refusing bad input with
Chinese messages and the fatal exit code, through the real command group on a real (new) SQLite archive;
and the template export run as ``python3 -m`` changing nothing when the shipped template is current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.errors import EXIT_FATAL
from dpsheets.workbook import template_export


def _run(args: list[str], stdin: str | None = None):
    return CliRunner().invoke(cli, args, input=stdin)


def _text(r) -> str:
    return r.output + (getattr(r, "stderr", "") if r.stderr_bytes is not None else "")


def test_user_add_needs_exactly_one_scope(tmp_path):
    db = str(tmp_path / "档案.sqlite")
    for scope in ([], ["--county", "舞阳县", "--province"]):
        r = _run(["user", "--archive", db, "add", "clerk", *scope, "--password-stdin"], "a long enough password\n")
        assert r.exit_code == EXIT_FATAL
        assert "请指定账号范围" in _text(r)
    assert _run(["user", "--archive", db, "list"]).output == ""


def test_user_province_account_with_prompted_password_then_errors(tmp_path):
    db = str(tmp_path)  # a watch folder: the archive inside it is created
    r = _run(["user", "--archive", db, "add", "boss", "--province"], "a long enough password\na long enough password\n")
    assert r.exit_code == 0, _text(r)
    assert (tmp_path / "档案.sqlite").is_file()
    listed = _run(["user", "--archive", db, "list"]).output.splitlines()
    assert len(listed) == 1 and listed[0].startswith("boss\t")
    again = _run(["user", "--archive", db, "add", "boss", "--province", "--password-stdin"], "another long password\n")
    assert again.exit_code == EXIT_FATAL and "已存在" in _text(again)
    for cmd in (["remove", "nobody"], ["passwd", "nobody", "--password-stdin"]):
        r = _run(["user", "--archive", db, *cmd], "another long password\n")
        assert r.exit_code == EXIT_FATAL and "没有用户 nobody" in _text(r)
    assert _run(["user", "--archive", db, "remove", "boss"]).exit_code == 0
    assert _run(["user", "--archive", db, "list"]).output == ""


def test_serve_without_an_archive_says_where_it_looked(tmp_path):
    r = _run(["serve", "--archive", str(tmp_path)])
    assert r.exit_code == EXIT_FATAL
    assert "找不到档案库" in _text(r) and "档案.sqlite" in _text(r)


def test_confirmations_of_an_unknown_enterprise_are_refused(tmp_path):
    db = str(tmp_path / "档案.sqlite")
    assert _run(["user", "--archive", db, "list"]).exit_code == 0  # creates the empty archive
    r = _run(["archive", "--archive", db, "confirmations", "91410000ma00000000"])
    assert r.exit_code == EXIT_FATAL
    assert "档案中没有统一社会信用代码为 91410000MA00000000 的企业" in _text(r)


def test_template_export_main_rewrites_identical_files():
    package = template_export.PACKAGE_FILE
    copy = template_export.TEMPLATE_FILE
    before = {p: p.read_bytes() for p in (package, copy) if p.is_file()}
    root = Path(template_export.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    try:
        out = subprocess.run([sys.executable, "-m", "dpsheets.workbook.template_export"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
        assert out[0] == str(package)
        assert package.read_bytes() == before[package], "the shipped template was stale"
        if (root / "pyproject.toml").is_file():
            assert out[1] == str(copy) and copy.read_bytes() == package.read_bytes()
    finally:
        for p, data in before.items():
            p.write_bytes(data)
