"""The templates ship inside the package (defect 3): a wheel built from this tree, installed into a
fresh virtual environment, runs `dpsheets demo` and writes every document. The repository's
user-facing template folders are identical copies of the shipped ones."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from dpsheets.documents.kinds import BOARD_PAPERS, COUNTY_REPORT, KINDS
from dpsheets.documents.template_build import EDITABLE_DIR, TEMPLATES_DIR
from dpsheets.workbook.template_export import PACKAGE_FILE, TEMPLATE_FILE

ROOT = Path(__file__).resolve().parents[1]


def _files(folder: Path, pattern: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob(pattern))}


def test_editable_word_templates_are_the_shipped_ones():
    shipped = _files(TEMPLATES_DIR, "*.docx")
    assert set(shipped) == {k.filename for k in (*KINDS, COUNTY_REPORT, *BOARD_PAPERS.values())}
    assert _files(EDITABLE_DIR, "*.docx") == shipped, "run: python3 -m dpsheets.documents.template_build"


def test_editable_workbook_template_is_the_shipped_one():
    assert TEMPLATE_FILE.read_bytes() == PACKAGE_FILE.read_bytes(), "run: python3 -m dpsheets.workbook.template_export"


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([*map(str, args)], capture_output=True, text=True, timeout=120, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_wheel_in_a_fresh_venv_runs_the_demo(tmp_path):
    src = tmp_path / "src"  # a copy, so the build leaves nothing behind in the repository
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "dpsheets", src / "dpsheets", ignore=shutil.ignore_patterns("__pycache__"))
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist", src)
    wheel = next((tmp_path / "dist").glob("dpsheets-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    assert {f"dpsheets/documents/templates/{k.filename}" for k in (*KINDS, COUNTY_REPORT, *BOARD_PAPERS.values())} <= names
    assert f"dpsheets/workbook/templates/{PACKAGE_FILE.name}" in names

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv)  # dependencies from here
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
         wheel)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = _run(python, "-c", "import dpsheets.documents.template_build as t; print(t.__file__); print(t.TEMPLATES_DIR)",
                 env=env, cwd=tmp_path).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # the wheel runs, not the source tree

    out = tmp_path / "demo"
    result = _run(venv / "bin" / "dpsheets", "demo", "-o", out, "--as-of", "2026-11-28", env=env, cwd=tmp_path)
    assert "找不到" not in result.stdout and "模板" not in result.stderr, result.stdout
    printed = {p.name for p in (out / "打印").glob("*.docx")}
    expected = {k.filename for k in KINDS if k.key != "quarterly"} | {"季度隐患统计表_2026Q3.docx"}
    assert printed == expected
