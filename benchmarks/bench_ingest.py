"""Throughput and latency of the shared-folder processing (watch / ingest).

Run: python3 benchmarks/bench_ingest.py [--files 1000] [--docs-files 100] [--fresh-files 30] [--latency-runs 10]
Prints files per second for typical workbooks without and with documents, the latency from
a file becoming stable in the inbox to its feedback appearing (watcher at default settings,
target under 2 s), and the ratio against running `dpsheets check` on each file in a fresh process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from dpsheets.county.inbox import Processor
from dpsheets.county.watch import ingest, watch
from dpsheets.workbook.samples import plant, valid_uscc
from dpsheets.workbook.template import write_workbook

AS_OF = date(2026, 11, 28)


def make_workbooks(folder: Path, n: int, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        p = plant(AS_OF, seed=i, risks=50, hazards=20, posts=30, employees=60,
                  uscc=valid_uscc(f"9141112100{i:07d}"), name=f"企业{i:05d}")
        out.append(write_workbook(folder / f"企业{i:05d}.xlsx", p.enterprise, p.rows))
    return out


def run_ingest(root: Path, sources: list[Path], documents: bool) -> float:
    for src in sources:
        (root / "收件箱").mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / "收件箱" / src.name)
    processor = Processor(root, as_of=AS_OF, documents=documents)
    started = time.perf_counter()
    outcomes = ingest(processor)
    elapsed = time.perf_counter() - started
    processor.close()
    assert len(outcomes) == len(sources) and all(o.destination == "已处理" for o in outcomes)
    return elapsed


def fresh_process_checks(sources: list[Path], out: Path) -> float:
    started = time.perf_counter()
    for src in sources:
        subprocess.run([sys.executable, "-m", "dpsheets", "check", str(src), "--as-of", AS_OF.isoformat(), "-o", str(out)],
                       capture_output=True, check=False)
    return time.perf_counter() - started


def latency(root: Path, sources: list[Path]) -> list[float]:
    processor = Processor(root, as_of=AS_OF, documents=True)
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(processor,), kwargs={"stop": stop}, daemon=True)
    thread.start()
    time.sleep(0.5)
    staging = root / "staging"
    staging.mkdir()
    results = []
    for src in sources:
        tmp = staging / src.name
        shutil.copy(src, tmp)
        report = root / "反馈" / f"{src.stem}_{valid_uscc('9141112100' + src.stem[-5:].zfill(7))}" / "检查报告.txt"
        os.rename(tmp, root / "收件箱" / src.name)  # the file is complete and stable from this moment
        stable_at = time.perf_counter()
        while not report.exists():
            time.sleep(0.005)
        results.append(time.perf_counter() - stable_at)
    stop.set()
    thread.join(10)
    processor.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--docs-files", type=int, default=100)
    parser.add_argument("--fresh-files", type=int, default=30)
    parser.add_argument("--latency-runs", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    print(f"generating {args.files} typical workbooks (50 risks, 20 hazards, 30 posts, 60 employees)…", flush=True)
    sources = make_workbooks(work / "src", args.files)

    t_plain = run_ingest(work / "plain", sources, documents=False)
    t_docs = run_ingest(work / "docs", sources[: args.docs_files], documents=True)
    fresh = sources[: args.fresh_files]
    t_fresh = fresh_process_checks(fresh, work / "fresh")
    t_same = run_ingest(work / "same", fresh, documents=False)  # the same files, side by side with the fresh run

    rate_plain = args.files / t_plain
    print(f"ingest without documents: {args.files} files in {t_plain:.1f} s = {rate_plain:.1f} files/s "
          f"({1000 * t_plain / args.files:.0f} ms per file: check, highlighted copy, report, archive)")
    print(f"ingest with documents:    {args.docs_files} files in {t_docs:.1f} s = {args.docs_files / t_docs:.1f} files/s "
          f"({1000 * t_docs / args.docs_files:.0f} ms per file, all seven document kinds)")
    print(f"`dpsheets check` in a fresh process per file: {args.fresh_files} files in {t_fresh:.1f} s "
          f"= {args.fresh_files / t_fresh:.1f} files/s; ingest of the same files {t_same:.1f} s "
          f"→ ingest is {t_fresh / t_same:.1f}× faster (and also archives)")
    lat = latency(work / "latency", make_workbooks(work / "lat", args.latency_runs, start=90_000))
    print(f"watch latency, file stable → feedback written (default settle 0.5 s, with documents): "
          f"median {statistics.median(lat):.2f} s, max {max(lat):.2f} s over {len(lat)} files (target < 2 s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
