"""Roll-up cost for 200, 2,000 and 20,000 enterprises (synthetic archives), its growth and peak memory.

Run: python3 benchmarks/bench_rollup.py [--sizes 200 2000 20000]
Each size runs in a fresh process (so peak memory is its own). Target (issue 5): linear growth,
2,000 enterprises in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from dpsheets.county.archive import Archive
from dpsheets.county.rollup import rollup_archives
from dpsheets.county.summary_book import write_summary
from dpsheets.county.summary_report import write_report
from dpsheets.workbook.samples import valid_uscc

AS_OF = date(2026, 11, 28)
STATUSES = ("待整改", "整改中", "待验收", "已销号", "已销号", "已销号")


def synthetic_archive(path: Path, n: int, seed: int = 1) -> None:
    """n enterprises, two submissions each, ~20 hazards and ~15 ledger dates per submission."""
    rnd = random.Random(seed)
    with Archive(path) as a, a.transaction() as db:
        for i in range(n):
            uscc = valid_uscc(f"914111{i:011d}")
            town, industry = f"乡镇{i % 12:02d}", ("机械", "建材", "商贸", "轻工")[i % 4]
            db.exec_driver_sql("INSERT INTO enterprises (uscc, name, county, township, industry, first_seen, last_seen) VALUES (?,?,?,?,?,?,?)", (uscc, f"企业{i}", "某县", town, industry, "", ""))
            for k in range(2):
                received = datetime.combine(AS_OF - timedelta(days=rnd.randint(1, 200) + 90 * (1 - k)), datetime.min.time())
                cur = db.exec_driver_sql(
                    "INSERT INTO submissions (uscc, received_at, file_name, sha256, template_version, valid, errors, warnings,"
                    " findings, name, county, township, industry, risks_major, risks_significant, risks_general, risks_low,"
                    " risks_unrated, posts, employees, hazards) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (uscc, received.isoformat(), f"{i}.xlsx", f"{i}-{k}", "1.1", 1, 0, 0, 3, f"企业{i}", "某县", town, industry,
                     rnd.randint(0, 2), rnd.randint(0, 8), rnd.randint(5, 20), rnd.randint(5, 20), 0, 30, 60, 20))
                sid = cur.lastrowid
                hazards = []
                for h in range(20):
                    found = received.date() - timedelta(days=rnd.randint(0, 120))
                    deadline = found + timedelta(days=rnd.randint(5, 40))
                    status = rnd.choice(STATUSES)
                    done = deadline + timedelta(days=rnd.randint(-10, 8)) if status in ("待验收", "已销号") else None
                    hazards.append((sid, h + 3, f"H{h}", f"隐患{h}", "车间", "重大隐患" if h == 0 and i % 9 == 0 else "一般隐患",
                                    status, found.isoformat(), deadline.isoformat(), done.isoformat() if done else None,
                                    "车间", "张三", int(i % 18 != 0)))
                db.exec_driver_sql("INSERT INTO hazards (submission_id, row, number, name, location, level, status, found_on, deadline, completed_on, unit, owner, has_plan) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", hazards)
                db.exec_driver_sql("INSERT INTO ledger_dates VALUES (?,?,?)",
                               [(sid, kind, (received.date() - timedelta(days=rnd.randint(0, 500))).isoformat())
                                for kind in ("training", "drill", "quiz") for _ in range(5)])


def one(n: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"bench_rollup_{n}_"))
    started = time.perf_counter()
    synthetic_archive(folder / "a.sqlite", n)
    built = time.perf_counter() - started
    started = time.perf_counter()
    result = rollup_archives([folder / "a.sqlite"], as_of=AS_OF)
    computed = time.perf_counter() - started
    started = time.perf_counter()
    write_summary(result, folder / "s.xlsx")
    book = time.perf_counter() - started
    started = time.perf_counter()
    write_report(result, folder / "r.docx", "汇总")
    report = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "build": built, "compute": computed, "book": book, "report": report,
            "total": computed + book + report, "peak_mb": peak, "overdue": len(result.overdue)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 20000])
    parser.add_argument("--one", type=int)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    results = []
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'enterprises':>12} {'compute':>9} {'workbook':>9} {'report':>8} {'total':>8} {'ms/ent':>7} {'peak MB':>8}")
    for r in results:
        print(f"{r['n']:>12,} {r['compute']:>8.2f}s {r['book']:>8.2f}s {r['report']:>7.2f}s {r['total']:>7.2f}s "
              f"{1000 * r['total'] / r['n']:>7.2f} {r['peak_mb']:>8.0f}")
    base = results[0]
    for r in results[1:]:
        print(f"  {r['n']:,} vs {base['n']:,}: {r['n'] / base['n']:.0f}× the enterprises, "
              f"{r['total'] / base['total']:.1f}× the time (linear would be {r['n'] / base['n']:.0f}×)")


if __name__ == "__main__":
    main()
