"""Many writers: 4 `dpsheets ingest` processes on 4 county folders, 400 workbooks, one PostgreSQL archive.

Run: python3 benchmarks/bench_many_writers.py [--per-folder 100] [--server postgresql://postgres@127.0.0.1/postgres]
The scenario of tests/test_many_writers.py at full size: one process is killed after a few seconds and
restarted; every file must be archived exactly once (the checks are the test's). Prints the wall time
and the files per second of the four processes together. A database of its own is created and dropped.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_many_writers import FOLDERS, scenario  # noqa: E402

from dpsheets.county.database import database_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-folder", type=int, default=100)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    server = database_url(args.server)
    name = f"dpsheets_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            scenario(server.set(database=name).render_as_string(hide_password=False), Path(tmp), args.per_folder,
                     kill_after=0.25)
            wall = time.perf_counter() - start
        files = FOLDERS * args.per_folder + 1
        print(f"{FOLDERS} ingests, {files} workbooks (one duplicate, one process killed and restarted): "
              f"every file archived exactly once; {wall:.1f} s wall, {files / wall:.1f} files/s")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
