"""Speed of `dpsheets check`: read+validate and the highlighted copy, against pandas and bare calamine.

Run: python3 benchmarks/bench_check.py [--repeat N]
Targets (issue 2): read+validate within 2× of a bare python-calamine read of all sheets;
the whole check of the typical workbook (read, validate, highlighted copy) under 0.5 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pandas as pd  # noqa: E402
import python_calamine as pc  # noqa: E402
from _common import compare, row  # noqa: E402

from dpsheets.pipeline import check, pipeline  # noqa: E402
from dpsheets.workbook.samples import plant  # noqa: E402
from dpsheets.workbook.template import write_workbook  # noqa: E402

AS_OF = date(2026, 11, 28)
SIZES = {
    "typical (50 risks, 20 hazards, 30 posts, 60 employees)": dict(risks=50, hazards=20, posts=30, employees=60),
    "large (2,000 rows in each register)": dict(risks=2000, hazards=2000, posts=2000, employees=2000),
}


def bare_calamine(path: Path) -> None:
    wb = pc.CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()
    wb.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench_check_"))
    for label, size in SIZES.items():
        sample = plant(AS_OF, mistakes=True, **size)
        path = write_workbook(out / "bench.xlsx", sample.enterprise, sample.rows)
        repeat = args.repeat if size["risks"] < 1000 else max(1, args.repeat // 2)
        t = compare({
            "calamine": lambda p=path: bare_calamine(p),
            "pandas": lambda p=path: pd.read_excel(p, sheet_name=None, engine="openpyxl"),
            "check": lambda p=path: check(p, AS_OF),
            "whole": lambda p=path: pipeline(p, as_of=AS_OF, out_dir=out / "hl"),
        }, repeat)
        t_calamine, t_pandas, t_check, t_whole = t["calamine"], t["pandas"], t["check"], t["whole"]
        print(f"{label}: {path.stat().st_size / 1024:.0f} KB")
        print(row("bare calamine read, all sheets", t_calamine))
        print(row("pandas.read_excel(openpyxl)", t_pandas))
        print(row("dpsheets read+validate", t_check, ("vs calamine", t_check / t_calamine),
                  ("vs pandas", t_check / t_pandas)))
        print(row("highlighted copy (openpyxl)", t_whole - t_check))
        print(row("whole check (read+validate+copy)", t_whole))
        print()


if __name__ == "__main__":
    main()
