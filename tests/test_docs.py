"""Docs tested as code: the generated field reference is current, and the README's commands exist and work."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.workbook.fieldsdoc import DOC_FILE, render

README = Path(__file__).resolve().parent.parent / "README.md"


def test_field_reference_is_current():
    assert DOC_FILE.read_text(encoding="utf-8") == render(), "run: python3 -m dpsheets.workbook.fieldsdoc"


def test_every_command_in_the_readme_exists():
    text = README.read_text(encoding="utf-8")
    commands = set(re.findall(r"\bdpsheets ([a-z]+)", text))
    assert {"demo", "template", "check", "docs", "watch", "ingest", "archive", "rollup", "roster"} <= commands
    for name in commands:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name


def test_readme_setup_is_two_commands():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## 两条命令\n\n```bash\n(.*?)```", text, re.S).group(1)
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 2
    assert "dpsheets demo" in lines[0] and "pytest" in lines[1]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1].split("#")[0].strip() in ci


def test_readme_configuration_example_is_valid_and_matches_the_defaults(tmp_path):
    from dpsheets.config import Config, load_config

    block = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    (tmp_path / "dpsheets.toml").write_text(block, encoding="utf-8")
    config = load_config(tmp_path / "dpsheets.toml")
    assert config == Config()  # the README shows the defaults, so it must not drift from them
