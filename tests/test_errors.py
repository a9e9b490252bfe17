"""Fatal errors are data: every code a DpsheetsError is raised with is declared, documented and has its exit code."""

from __future__ import annotations

import re
from pathlib import Path

from dpsheets.errors import EXIT_CODES, FATAL, DpsheetsError
from dpsheets.workbook.fieldsdoc import DOC_FILE

PACKAGE = Path(__file__).resolve().parents[1] / "dpsheets"
RAISED = re.compile(r'DpsheetsError\(\s*"([^"]+)"')


def raised_codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for code in RAISED.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, []).append(str(path.relative_to(PACKAGE.parent)))
    return found


def test_every_raised_code_is_declared_and_documented():
    raised = raised_codes()
    assert len(raised) >= 30  # the pattern still finds them
    undeclared = {code: where for code, where in raised.items() if code not in FATAL}
    assert not undeclared, f"declare these codes in dpsheets/errors.py FATAL: {undeclared}"
    doc = DOC_FILE.read_text(encoding="utf-8")
    for code in FATAL:
        assert f"| `{code}` |" in doc, code


def test_every_declared_code_is_used():
    assert set(FATAL) <= set(raised_codes()), set(FATAL) - set(raised_codes())


def test_exit_codes_come_from_the_catalogue():
    assert DpsheetsError("watch.locked", "x").exit_code == 3
    assert DpsheetsError("file.missing", "x").exit_code == 2
    assert {kind.exit_code for kind in FATAL.values()} <= set(EXIT_CODES)
