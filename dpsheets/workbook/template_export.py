"""Regenerate the blank template kept in the repository: ``python3 -m dpsheets.workbook.template_export``."""

from __future__ import annotations

from pathlib import Path

from dpsheets.workbook.template import write_workbook

TEMPLATE_FILE = Path(__file__).resolve().parents[2] / "workbook_templates" / "双重预防体系台账模板.xlsx"


def export(path: Path = TEMPLATE_FILE) -> Path:
    return write_workbook(path)


if __name__ == "__main__":
    print(export())
