"""Speed of `dpsheets check`, each figure with its ratio to a floor measured in the same run.

Run: python3 benchmarks/bench_check.py [--repeat N] [--skip-large] [--startup-only]

- the whole check (read, validate, highlighted copy) against the floor: a bare python-calamine read of
  every sheet plus an openpyxl load and save of the same file (issue 14: at most 1.3× the floor, also
  for a workbook of 2,000 rows per register); by wall time and, steadier on a shared machine, by CPU time.
  The copy is saved faster than openpyxl's own save (feedback.xlsx_writer): the same round trip made
  the copy's way is printed beside it, and what marking the problems adds to that;
- read+validate against a bare calamine read and against pandas (issue 2: within 2× of calamine);
- the county's worker process (dpsheets.isolation): the same check and copy through the worker,
  its per-file overhead, and the cost of starting a worker;
- start-up: a fresh ``python3 -c 'import dpsheets.cli'`` next to ``python3 -c 'pass'``, and the whole
  ``dpsheets check`` of the typical workbook in a fresh process (issue 14: under 0.2 s without the copy;
  what it imports, openpyxl for the copy included, clearly under 0.2 s of CPU), with Python's bytecode
  cache and, where this environment forbids one, without it. ``--startup-only`` runs this part alone.

Times are medians of interleaved runs (see _common.compare); CPU-bound figures on a shared machine
are best compared by their ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import openpyxl  # noqa: E402
import pandas as pd  # noqa: E402
import python_calamine as pc  # noqa: E402
from _common import compare, compare_cpu, row  # noqa: E402

from dpsheets.config import Config  # noqa: E402
from dpsheets.errors import DpsheetsError  # noqa: E402
from dpsheets.isolation import Worker, platform_note  # noqa: E402
from dpsheets.pipeline import check, pipeline  # noqa: E402
from dpsheets.workbook.samples import plant  # noqa: E402
from dpsheets.workbook.template import write_workbook  # noqa: E402

AS_OF = date(2026, 11, 28)
TYPICAL = "typical (50 risks, 20 hazards, 30 posts, 60 employees)"
SIZES = {
    TYPICAL: dict(risks=50, hazards=20, posts=30, employees=60),
    "large (2,000 rows in each register)": dict(risks=2000, hazards=2000, posts=2000, employees=2000),
}
FLOOR_TARGET = 1.3
STARTUP_TARGET = 0.2  # seconds


def bare_calamine(path: Path) -> None:
    wb = pc.CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()
    wb.close()


def openpyxl_round_trip(path: Path, out: Path) -> None:
    openpyxl.load_workbook(path, rich_text=False).save(out)


def copys_round_trip(path: Path, out: Path) -> None:
    """The round trip as the highlighted copy makes it: collector paused, its own writer (feedback.xlsx_writer)."""
    from dpsheets.feedback.highlight import _collector_paused
    from dpsheets.feedback.xlsx_writer import save

    with _collector_paused():
        save(openpyxl.load_workbook(path, rich_text=False), out)


def fresh(code: list[str], repeat: int, env: dict[str, str]) -> float:
    """Median wall time of a fresh interpreter running *code*."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, *code], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def import_cpu(modules: str, repeat: int, env: dict[str, str]) -> float:
    """Least CPU time a fresh interpreter spends importing *modules* (steadier than wall time on a busy machine)."""
    code = f"import time; t = time.process_time(); import {modules}; print(time.process_time() - t)"
    return min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout)
               for _ in range(repeat))


def bytecode_envs(cache: Path) -> dict[str, dict[str, str]]:
    """The environments of the start-up figures: with Python's bytecode cache, as every installed program
    runs (pip compiles on install; Python writes the cache on first import), kept in *cache*; and, when
    dpsheets has no ``__pycache__`` and the environment forbids writing one (PYTHONDONTWRITEBYTECODE, as
    in this workspace), without it: every dpsheets module compiled from source at every start."""
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": str(cache)}
    envs = {"bytecode cached (as installed)": cached}
    package = Path(__import__("dpsheets").__file__).parent
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not (package / "__pycache__").exists():
        envs["no bytecode cache for dpsheets (this workspace)"] = dict(os.environ)
    return envs


def verdict(label: str, seconds: float) -> str:
    met = "met" if seconds < STARTUP_TARGET else "NOT MET"
    return f"  {label:<36} {seconds * 1000:9.1f} ms  {seconds / STARTUP_TARGET:5.2f}× the {STARTUP_TARGET * 1000:.0f} ms target: {met}"


def startup(path: Path, out: Path, repeat: int) -> None:
    print(f"start-up (fresh processes; issue 14: `check` without the copy under {STARTUP_TARGET * 1000:.0f} ms,"
          " and what it imports, openpyxl for the copy included, clearly under it)")
    check = ["-m", "dpsheets", "check", str(path), "--as-of", AS_OF.isoformat()]
    for label, env in bytecode_envs(out / "pycache").items():
        fresh(["-c", "import dpsheets.cli, dpsheets.feedback.highlight"], 1, env)  # fills the bytecode cache
        bare = fresh(["-c", "pass"], repeat, env)
        cli = fresh(["-c", "import dpsheets.cli"], repeat, env)
        checked = fresh([*check, "--no-highlight"], repeat, env)
        whole = fresh([*check, "-o", str(out / "startup")], repeat, env)
        print(f" {label}")
        print(row("python3 -c pass", bare))
        print(row("python3 -c 'import dpsheets.cli'", cli, ("vs pass", cli / bare)))
        print(verdict("dpsheets check --no-highlight", checked))
        print(row("  of which over python3 -c pass", checked - bare))
        print(row("dpsheets check (with the copy)", whole, ("vs pass", whole / bare)))
        print(row("CPU importing dpsheets.cli", import_cpu("dpsheets.cli", repeat, env)))
        print(verdict("CPU importing check's modules+openpyxl",
                      import_cpu("dpsheets.cli, dpsheets.feedback.highlight", repeat, env)))
    print()


def worker_overhead(path: Path, out: Path, repeat: int) -> None:
    print(f"county worker process ({platform_note()})")
    started = time.perf_counter()
    worker = Worker()
    worker.check(path, AS_OF, Config())
    start = time.perf_counter() - started
    try:
        t = compare({
            "in-process": lambda: pipeline(path, as_of=AS_OF, out_dir=out / "in"),
            "worker": lambda: pipeline(path, as_of=AS_OF, out_dir=out / "worker", reader=worker),
        }, repeat)
    finally:
        worker.close()
    print(row("whole check in this process", t["in-process"]))
    print(row("whole check through the worker", t["worker"], ("vs in-process", t["worker"] / t["in-process"])))
    print(row("  difference (within noise when < 0)", t["worker"] - t["in-process"]))
    print(row("starting a worker (once; again after a death)", start))
    missing, config = out / "missing.xlsx", Config()
    with Worker() as idle:
        idle.check(path, AS_OF, config)  # started
        calls = 50
        started = time.perf_counter()
        for _ in range(calls):
            with contextlib.suppress(DpsheetsError):
                idle.check(missing, AS_OF, config)
        round_trip = (time.perf_counter() - started) / calls
    print(row("  a request's round trip (file refused at once)", round_trip))
    data, report = check(path, AS_OF)
    started = time.perf_counter()
    for _ in range(repeat):
        pickle.loads(pickle.dumps((data, report), protocol=pickle.HIGHEST_PROTOCOL))
        pickle.loads(pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL))
    size = len(pickle.dumps((data, report), protocol=pickle.HIGHEST_PROTOCOL))
    print(row(f"  pickling the answers ({size / 1024:.0f} KB)", (time.perf_counter() - started) / repeat))
    print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-large", action="store_true", help="only the typical workbook")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up figures")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench_check_"))
    if args.startup_only:
        sample = plant(AS_OF, mistakes=True, **SIZES[TYPICAL])
        startup(write_workbook(out / "typical.xlsx", sample.enterprise, sample.rows), out, args.repeat)
        return
    typical = None
    for label, size in SIZES.items():
        if args.skip_large and label != TYPICAL:
            continue
        sample = plant(AS_OF, mistakes=True, **size)
        path = write_workbook(out / f"bench{size['risks']}.xlsx", sample.enterprise, sample.rows)
        typical = typical or path
        repeat = args.repeat if size["risks"] < 1000 else max(3, args.repeat // 2)
        both = compare_cpu({
            "calamine": lambda p=path: bare_calamine(p),
            "openpyxl": lambda p=path: openpyxl_round_trip(p, out / "round_trip.xlsx"),
            "pandas": lambda p=path: pd.read_excel(p, sheet_name=None, engine="openpyxl"),
            "copy's way": lambda p=path: copys_round_trip(p, out / "round_trip_fast.xlsx"),
            "check": lambda p=path: check(p, AS_OF),
            "whole": lambda p=path: pipeline(p, as_of=AS_OF, out_dir=out / "hl"),
        }, repeat)
        t = {name: wall for name, (wall, _) in both.items()}
        cpu = {name: seconds for name, (_, seconds) in both.items()}
        floor, cpu_floor = t["calamine"] + t["openpyxl"], cpu["calamine"] + cpu["openpyxl"]
        print(f"{label}: {path.stat().st_size / 1024:.0f} KB (median wall time; CPU time of this process beside the ratio to the floor)")
        print(row("bare calamine read, all sheets", t["calamine"]))
        print(row("openpyxl load + save", t["openpyxl"]))
        print(row("floor (calamine + openpyxl round trip)", floor))
        print(row("pandas.read_excel(openpyxl)", t["pandas"]))
        print(row("dpsheets read+validate", t["check"], ("vs calamine", t["check"] / t["calamine"]),
                  ("vs pandas", t["check"] / t["pandas"])))
        print(row("highlighted copy (openpyxl)", t["whole"] - t["check"]))
        print(row("  the same round trip the copy's way", t["copy's way"], ("vs openpyxl", t["copy's way"] / t["openpyxl"])))
        print(row("  marking (copy minus that; noise if < 0)", t["whole"] - t["check"] - t["copy's way"]))
        ratio = t["whole"] / floor
        print(row("whole check (read+validate+copy)", t["whole"], ("vs floor", ratio),
                  ("CPU vs CPU floor", cpu["whole"] / cpu_floor)))
        target = f"target ≤ {FLOOR_TARGET}× the floor"
        print(f"  {target:<36} {'met' if ratio <= FLOOR_TARGET else 'NOT MET'}")
        print()
    assert typical is not None
    worker_overhead(typical, out, args.repeat)
    startup(typical, out, args.repeat)


if __name__ == "__main__":
    main()
