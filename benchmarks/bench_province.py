"""The province database: roll-ups of 20,000, 100,000 and 200,000 enterprises out of PostgreSQL.

Run: python3 benchmarks/bench_province.py [--sizes 20000 100000 200000] [--server postgresql://postgres@127.0.0.1/postgres]

For each size a database of its own is loaded with COPY (not through workbooks): every enterprise
has two submissions, each with a small enterprise's registers: 8 hazards, 6 posts, 15 employees,
4 trainings, 2 drills, 8 answer confirmations and the 三有五化 registers (3 inspection plans, 2
rewards, 3 procedures, 2 unit duties, 3 signs), spread over Henan's 18 cities and 8 counties each.
(Risks are not loaded: the roll-up reads their counts from the submission.) The database is then
vacuumed and analysed, as autovacuum leaves a database in use. Then, each in
a fresh process so that its peak memory is its own: the province roll-up (computed in SQL and written
to the summary workbook and the Word report), one city's and one county's (computed). Prints time and
peak memory per size and the cost per enterprise (flat = linear growth).

Targets (issue 12): province roll-up of 100,000 enterprises under 60 s and 500 MB on 2 cores; a
county roll-up out of the province database under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from dpsheets.county.archive import Archive
from dpsheets.county.database import database_url
from dpsheets.county.regions import CITIES
from dpsheets.workbook.samples import valid_uscc

AS_OF = date(2026, 11, 28)
STATUSES = ("待整改", "整改中", "待验收", "已销号", "已销号", "已销号")
COUNTIES_PER_CITY = 8
HAZARDS, TRAININGS, DRILLS, QUIZZES, POSTS, EMPLOYEES = 8, 4, 2, 8, 6, 15
SANYOU = {"inspection_plans": (3, ("content",)), "rewards": (2, ("date", "target")), "procedures": (3, ("post", "steps")),
          "unit_duties": (2, ("tier",)), "signs": (3, ("location", "count"))}


def area(i: int) -> tuple[str, str, str]:
    """(division code, city, county) of enterprise *i*."""
    codes = list(CITIES)
    code = codes[i % len(codes)]
    county = (i // len(codes)) % COUNTIES_PER_CITY
    return f"{code}{21 + county:02d}", CITIES[code], f"{CITIES[code][:-1]}第{county + 1}县"


def load(url: str, n: int, seed: int = 1) -> None:
    """*n* enterprises with two submissions each, written with COPY."""
    rnd = random.Random(seed)
    with Archive(url) as archive:
        raw = archive.engine.raw_connection()
        try:
            cur = raw.cursor()
            subs, hazards, ledgers, quizzes, ents = [], [], [], [], []
            posts, employees, sanyou = [], [], {t: [] for t in SANYOU}
            sid = 0
            for i in range(n):
                division, city, county = area(i)
                uscc = valid_uscc(f"91{division}{i:09d}")
                town, industry = f"乡镇{i % 12:02d}", ("机械", "建材", "商贸", "轻工")[i % 4]
                ents.append((uscc, f"企业{i}", county, town, industry, city, "2026-01-01T09:00:00", "2026-11-01T09:00:00"))
                for k in range(2):
                    sid += 1
                    received = datetime.combine(AS_OF - timedelta(days=rnd.randint(1, 200) + 120 * (1 - k)),
                                                datetime.min.time()) + timedelta(hours=9)
                    subs.append((sid, uscc, received.isoformat(), f"{i}-{k}.xlsx", f"{i}-{k}", "1.1", 1, 0, 0, 3,
                                 f"企业{i}", county, town, industry, city, rnd.randint(0, 2), rnd.randint(0, 4),
                                 rnd.randint(2, 8), rnd.randint(2, 8), 0, 5, 10, HAZARDS))
                    for h in range(HAZARDS):
                        found = received.date() - timedelta(days=rnd.randint(0, 120))
                        deadline = found + timedelta(days=rnd.randint(5, 40))
                        status = rnd.choice(STATUSES)
                        done = deadline + timedelta(days=rnd.randint(-10, 8)) if status in ("待验收", "已销号") else None
                        hazards.append((sid, h + 3, f"H{h}", f"隐患{h}", "车间",
                                        "重大隐患" if h == 0 and i % 9 == 0 else "一般隐患", status, found, deadline, done,
                                        "车间", "张三", int(i % 18 != 0)))
                    for kind, count in (("training", TRAININGS), ("drill", DRILLS), ("quiz", QUIZZES)):
                        for _ in range(count):
                            day = received.date() - timedelta(days=rnd.randint(0, 500))
                            ledgers.append((sid, kind, day))
                            if kind == "quiz":
                                k_ = rnd.randint(1, EMPLOYEES)
                                quizzes.append((sid, len(quizzes) % 50 + 3, day, f"员工{k_}", f"岗位{k_ % POSTS}"))
                    posts += [(sid, p + 3, "车间", f"岗位{p}", "岗位职责") for p in range(POSTS)]
                    employees += [(sid, e + 3, f"员工{e + 1}", f"岗位{(e + 1) % POSTS}") for e in range(EMPLOYEES)]
                    for table, (count, _) in SANYOU.items():
                        for j in range(count):
                            value = {"inspection_plans": ("日常检查",), "rewards": (received.date() - timedelta(days=30 * j), "员工1"),
                                     "procedures": (f"岗位{j}", "操作步骤"), "unit_duties": ("车间",), "signs": ("车间", 2)}[table]
                            sanyou[table].append((sid, j + 3, *value))
                if len(hazards) > 200_000 or i == n - 1:
                    _copy(cur, "enterprises", ("uscc", "name", "county", "township", "industry", "city", "first_seen",
                                               "last_seen"), ents)
                    _copy(cur, "submissions", (
                        "id", "uscc", "received_at", "file_name", "sha256", "template_version", "valid", "errors",
                        "warnings", "findings", "name", "county", "township", "industry", "city", "risks_major",
                        "risks_significant", "risks_general", "risks_low", "risks_unrated", "posts", "employees",
                        "hazards"), subs)
                    _copy(cur, "hazards", ("submission_id", "row", "number", "name", "location", "level", "status",
                                           "found_on", "deadline", "completed_on", "unit", "owner", "has_plan"), hazards)
                    _copy(cur, "ledger_dates", ("submission_id", "kind", "day"), ledgers)
                    _copy(cur, "quizzes", ("submission_id", "row", "date", "name", "post"), quizzes)
                    _copy(cur, "posts", ("submission_id", "row", "workshop", "post", "duties"), posts)
                    _copy(cur, "employees", ("submission_id", "row", "name", "post"), employees)
                    for table, (_, columns) in SANYOU.items():
                        _copy(cur, table, ("submission_id", "row", *columns), sanyou[table])
                    subs, hazards, ledgers, quizzes, ents = [], [], [], [], []
                    posts, employees, sanyou = [], [], {t: [] for t in SANYOU}
            cur.execute("SELECT setval(pg_get_serial_sequence('submissions', 'id'), (SELECT MAX(id) FROM submissions))")
            raw.commit()
        finally:
            raw.close()
        raw = archive.engine.raw_connection()  # VACUUM runs outside a transaction
        try:
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute("VACUUM (ANALYZE)")
        finally:
            raw.close()


def _copy(cur, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:  # noqa: ANN001
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _hwm_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process since it started its program (Linux ``VmHWM``; elsewhere
    ``ru_maxrss`` of this process, which on Linux also counts what its parent held when it forked)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else 0.0


class ChildPeak(threading.Thread):
    """The highest peak memory of this process's children (the second process of sheet_jobs), polled."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.done = 0.0, threading.Event()

    def run(self) -> None:
        me = str(os.getpid())
        while not self.done.wait(0.2):
            for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
                try:
                    if pid.isdigit() and Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[1] == me:
                        self.peak = max(self.peak, _hwm_mb(pid))
                except (OSError, IndexError):
                    continue


def one(url: str, n: int, what: str) -> dict:
    """In this process: one roll-up; its time and peak memory (and its children's)."""
    from dpsheets.county.county import rollup, write_report, write_summary

    children = ChildPeak()
    children.start()
    start = time.perf_counter()
    if what == "province":
        result = rollup(archives=[url], as_of=AS_OF, level="省")
        computed = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            write_summary(result, tmp)
            written = time.perf_counter() - start
            write_report(result, tmp)
    else:
        division, city, county = area(0)
        result = rollup(archives=[url], as_of=AS_OF, where=city if what == "city" else f"{city}/{county}")
        computed = written = time.perf_counter() - start
    total = time.perf_counter() - start
    children.done.set()
    return {"n": n, "what": what, "enterprises": len(result.enterprises), "compute": computed, "book": written - computed,
            "total": total, "peak_mb": _hwm_mb(), "child_mb": children.peak,
            "overdue": result.totals().sums["hazards_overdue"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000, 200_000])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--one", nargs=3, metavar=("URL", "N", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.one[2])))
        return
    server = database_url(args.server)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    print(f"{'size':>8} {'load s':>7} | {'province s':>10} {'(SQL':>6} {'book':>6} {'report)':>8} {'MB':>6} {'+child':>6} {'µs/ent':>7} | "
          f"{'city s':>7} {'MB':>6} | {'county s':>8} {'MB':>6} {'ents':>5}")
    for n in args.sizes:
        name = f"dpsheets_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(hide_password=False)
        try:
            start = time.perf_counter()
            load(url, n)
            loaded = time.perf_counter() - start
            runs = {}
            for what in ("province", "city", "county"):
                out = subprocess.run([sys.executable, __file__, "--one", url, str(n), what], capture_output=True,
                                     text=True, check=True)
                runs[what] = json.loads(out.stdout.strip().splitlines()[-1])
            p, c, k = runs["province"], runs["city"], runs["county"]
            busy = " ".join(f"{x:.1f}" for x in os.getloadavg())
            report = p["total"] - p["compute"] - p["book"]
            print(f"{n:>8} {loaded:>7.1f} | {p['total']:>10.1f} {p['compute']:>6.1f} {p['book']:>6.1f} {report:>8.1f} "
                  f"{p['peak_mb']:>6.0f} {p['child_mb']:>6.0f} {p['total'] / n * 1e6:>7.0f} | {c['total']:>7.2f} {c['peak_mb']:>6.0f} | "
                  f"{k['total']:>8.2f} {k['peak_mb']:>6.0f} {k['enterprises']:>5}   load {busy}", flush=True)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
    print("targets: province of 100,000 < 60 s and < 500 MB; county < 2 s. µs/ent flat = linear growth.")
    print("MB: the roll-up's own peak (VmHWM); +child: the peak of the second process that writes 企业明细")
    print("meanwhile (dpsheets.county.sheet_jobs), so both together held at most MB + child.")
    print("load: the machine's 1/5/15-minute load averages after each size (2 cores; anything above 2 means waiting)")


if __name__ == "__main__":
    main()
