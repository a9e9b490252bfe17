"""dpsheets.toml is validated on load (defect 4): a wrong type, a value out of range or an unknown
key at any level is refused with one Chinese message naming the file and the key, exit code 2,
before any file is touched. Run through the real `dpsheets` command, as a county would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from builders import valid_workbook

from dpsheets.config import Config, RollupRules, config_from_dict
from dpsheets.errors import DpsheetsError
from dpsheets.workbook.reader import read_workbook

ROOT = Path(__file__).resolve().parents[1]


def dpsheets(*args, cwd: Path) -> subprocess.CompletedProcess:
    """The `dpsheets` console script, running this source tree."""
    exe = Path(sys.executable).with_name("dpsheets")
    command = [str(exe)] if exe.is_file() else [shutil.which("dpsheets") or "dpsheets"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    return subprocess.run([*command, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


BAD = [
    ('due_soon_days = "3"\n', "due_soon_days", "整数"),
    ("due_soon_days = -1\n", "due_soon_days", "0～365"),
    ("max_rows = 1.5\n", "max_rows", "整数"),
    ("due_son_days = 3\n", "due_son_days", "due_soon_days"),
    ("[rules]\nstale_dayz = 30\n", "stale_dayz", "[rules]"),
    ("[rules]\nstale_days = 0\n", "stale_days", "[rules]"),
    ('[rules]\nmajor_without_plan = "是"\n', "major_without_plan", "true"),
    ("rules = 5\n", "rules", "表"),
    ('[lec]\n"重大风险" = "高"\n', "重大风险", "[lec]"),
    ('[ls]\n"重大" = 16\n', "重大", "重大风险"),
    ('[ls]\n"较大风险" = 30\n', "较大风险", "逐级降低"),
    ('templates_dir = "没有这个文件夹"\n', "没有这个文件夹", "templates_dir"),
    ("due_soon_days = \n", "dpsheets.toml", "格式有误"),
    ("[rules.extra]\nx = 1\n", "extra", "[rules]"),
    # [aliases] (issue 9): local column names, validated like the rest
    ('[aliases]\n"隐患排查治理清单.限改" = ["限改日期"]\n', "隐患排查治理清单.限改", "隐患排查治理清单.治理期限"),
    ('[aliases]\n"隐患排查治理清单.治理期限" = "限改日期"\n', "隐患排查治理清单.治理期限", "列表"),
    ('[aliases]\n"隐患排查治理清单.治理期限" = ["  "]\n', "隐患排查治理清单.治理期限", "空的"),
    ('[aliases]\n"隐患排查治理清单.治理期限" = ["发现日期"]\n', "发现日期", "标准列名"),
    ('[aliases]\n"隐患排查治理清单.治理期限" = ["限改日期"]\n"隐患排查治理清单.完成日期" = ["限改日期"]\n', "限改日期",
     "只能对应一个标准列"),
]


@pytest.mark.parametrize(("toml", "key", "hint"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_configuration_is_refused_before_any_file_is_touched(tmp_path, toml, key, hint):
    book = valid_workbook(tmp_path / "台账.xlsx")
    (tmp_path / "dpsheets.toml").write_text(toml, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = dpsheets("check", book.name, "-o", "结果", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert "dpsheets.toml" in message and key in message and hint in message, message
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no 结果/, no highlighted copy


def test_watch_folder_is_not_created_with_a_bad_configuration(tmp_path):
    bad = tmp_path / "my.toml"
    bad.write_text("[rules]\nmax_overdue = 1\nunknown_rule = true\n", encoding="utf-8")
    result = dpsheets("ingest", tmp_path / "舞阳县", "--config", bad, cwd=tmp_path)
    assert result.returncode == 2 and "unknown_rule" in result.stderr and str(bad) in result.stderr
    assert not (tmp_path / "舞阳县").exists()


def test_a_valid_configuration_takes_effect(tmp_path):
    (tmp_path / "dpsheets.toml").write_text("due_soon_days = 9\n[rules]\nstale_days = 30\n[lec]\n\"一般风险\" = 71\n",
                                            encoding="utf-8")
    result = dpsheets("template", "-o", "模板.xlsx", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    formulas = [f for cf in openpyxl.load_workbook(tmp_path / "模板.xlsx")["隐患排查治理清单"].conditional_formatting
                for rule in cf.rules for f in rule.formula]
    assert any("TODAY()+9)" in f for f in formulas)
    book = valid_workbook(tmp_path / "台账.xlsx")
    latest = max(h["deadline"] for h in read_workbook(book).records("hazard") if h["status"] != "已销号")
    as_of = (latest - timedelta(days=6)).isoformat()  # due within 9 days, not within 3
    (tmp_path / "empty.toml").write_text("", encoding="utf-8")
    runs = [dpsheets("check", book.name, "--json", "--as-of", as_of, "--no-highlight", *extra, cwd=tmp_path)
            for extra in ((), ("--config", "empty.toml"))]
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    due_soon = [sum(p["code"] == "hazard.due-soon" for p in json.loads(r.stdout)["problems"]) for r in runs]
    assert due_soon[0] > 0 and due_soon[1] == 0


def test_every_setting_is_validated_from_its_declaration():
    """No setting without a type the validator knows: each one refuses a value of the wrong type."""
    for cls, prefix in ((Config, ()), (RollupRules, ("rules",))):
        for f in fields(cls):
            if f.name == "rules":
                continue
            wrong = [] if isinstance(getattr(cls(), f.name), str) else "x"
            data: dict = {f.name: wrong}
            for key in reversed(prefix):
                data = {key: data}
            with pytest.raises(DpsheetsError) as err:
                config_from_dict(data, "t.toml")
            assert f.name in err.value.message


def test_a_new_setting_needs_no_validation_code():
    from dpsheets.config import _build, setting

    @dataclass(frozen=True)
    class Extra:
        limit: int = setting(5, min=1, max=9)
        names: dict[str, tuple[str, ...]] = setting(factory=dict)

    assert _build(Extra, {"limit": 7, "names": {"a": ["x", "y"]}}, (), "t.toml") == Extra(7, {"a": ("x", "y")})
    for bad, key in (({"limit": 10}, "limit"), ({"names": {"a": [1]}}, "names.a"), ({"names": {"a": "x"}}, "a"),
                     ({"other": 1}, "other")):
        with pytest.raises(DpsheetsError) as err:
            _build(Extra, bad, (), "t.toml")
        assert key.split(".")[-1] in err.value.message
