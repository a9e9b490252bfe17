"""The blank standard workbook shipped in the package, and the repository's user-facing copy.

``python3 -m dpsheets.workbook.template_export`` regenerates both; tests fail when either is stale.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dpsheets.workbook.template import write_workbook

FILENAME = "双重预防体系台账模板.xlsx"
PACKAGE_FILE = Path(__file__).resolve().parent / "templates" / FILENAME  # package data
TEMPLATE_FILE = Path(__file__).resolve().parents[2] / "workbook_templates" / FILENAME  # in a source checkout


def export(path: Path = PACKAGE_FILE) -> Path:
    return write_workbook(path)


if __name__ == "__main__":
    print(export())
    if TEMPLATE_FILE.parents[1].joinpath("pyproject.toml").is_file():
        TEMPLATE_FILE.parent.mkdir(exist_ok=True)
        print(shutil.copyfile(PACKAGE_FILE, TEMPLATE_FILE))
