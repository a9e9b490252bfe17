"""Speed of the documents: one render per kind (a loop in the template) against one render per item.

Run: python3 benchmarks/bench_docs.py [--repeat N]
Targets (issues 3 and 10): the typical plant's whole set (30 posts, 60 employees, 20 hazards) under 1 s
without PDF, QR codes made anew; 100 cards in one pass faster than rendering each card separately.
Each row gives wall-clock and CPU time: on the shared 2-core machine the wall clock also counts the
others' load (print ``uptime`` beside the figures).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import compare, compare_cpu, row  # noqa: E402

from dpsheets.documents import render  # noqa: E402
from dpsheets.documents.render import render_all  # noqa: E402
from dpsheets.workbook.reader import read_workbook  # noqa: E402
from dpsheets.workbook.samples import plant  # noqa: E402
from dpsheets.workbook.template import write_workbook  # noqa: E402

AS_OF = date(2026, 11, 28)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench_docs_"))
    typical = plant(AS_OF, risks=50, hazards=20, posts=30, employees=60)
    data = read_workbook(write_workbook(out / "typical.xlsx", typical.enterprise, typical.rows, layout=typical.layout))
    many = plant(AS_OF, posts=100, employees=10, hazards=5)
    cards = read_workbook(write_workbook(out / "cards.xlsx", many.enterprise, many.rows))

    both = compare_cpu({
        "all": lambda: (render._qr_png.cache_clear(), render_all(data, out / "all", as_of=AS_OF)),  # cold: QR codes made anew
        "cards": lambda: render_all(cards, out / "cards", as_of=AS_OF, kinds=("cards",)),
    }, args.repeat)
    t = {name: wall for name, (wall, _) in both.items()}
    # Per-item rendering: each of the 100 cards rendered as its own document (what --split does per item),
    # measured as the split run minus the one-pass run it includes.
    t_split = compare({"split": lambda: render_all(cards, out / "split", as_of=AS_OF, kinds=("cards",), split=True)},
                      max(1, args.repeat - 1))["split"]
    per_item = t_split - t["cards"]
    print("typical plant (30 posts, 60 employees, 20 hazards), all seven kinds:")
    print(row("whole set, one render per kind", t["all"]))
    print(row("  CPU time of this process", both["all"][1]))
    print("100 cards:")
    print(row("one render, loop in the template", t["cards"]))
    print(row("  CPU time of this process", both["cards"][1]))
    print(row("one render per card (100 renders)", per_item, ("vs one pass", per_item / t["cards"])))
    print(row("per card, one-pass", t["cards"] / 100))
    print(row("per card, separate render", per_item / 100))


if __name__ == "__main__":
    main()
