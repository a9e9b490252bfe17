"""The web service under load: requests per second and latency (p50/p95/p99) of the post page (GET /p/TOKEN)
and of the confirmation (POST /p/TOKEN, all five right, one row written), against ``dpsheets serve``'s app under
uvicorn in its own process on 127.0.0.1, with 2,000 enterprises archived (a county's worth: 16 posts and
45 workers each). Target (issue 13): p95 under 100 ms for both.

Then the county staff's list page (GET /staff, a county account, every enterprise of the county with its 分值):
right after a confirmation (the roll-up's enterprise rows are computed again) and when nothing changed (cached),
and 重点检查企业 (GET /staff/enforcement) after a confirmation. The load average (as ``uptime`` shows it) is
printed with each figure: the machine is shared.

Run: python3 benchmarks/bench_serve.py [--enterprises 2000] [--clients 4] [--seconds 10]
                                       [--archive postgresql://postgres@127.0.0.1/postgres]

Without --archive the archive is an SQLite file in a temporary folder; with a PostgreSQL URL it is a schema of its
own in that database, created for the run and dropped at the end.

The load comes from *clients* threads in this process (httpx, one keep-alive connection each). The throttles
of the quiz are raised for the run (one address sends every confirmation). Each POST needs a fresh form,
so a client GETs the page first; only the POST is timed in the POST figures.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

from dpsheets.county import users
from dpsheets.county.archive import Archive
from dpsheets.county.database import display
from dpsheets.documents import qr
from dpsheets.web.store import QR_SECRET
from dpsheets.workbook.samples import plant, valid_uscc

AS_OF = date(2026, 11, 28)
STAFF_PASSWORD = "bench staff password"


def synthetic_archive(path: Path | str, n: int) -> list[tuple[str, list[dict], list[dict]]]:
    """n enterprises with one submission each: the demo plant's posts, workers and hazards as records."""
    sample = plant(AS_OF)
    posts = [{k: v for k, v in p.items() if v is not None} for p in sample.rows["post"]]
    rnd = random.Random(1)
    out = []
    with Archive(path) as a, a.transaction() as db:
        for i in range(n):
            uscc = valid_uscc(f"914111{i:011d}")
            db.execute("INSERT INTO enterprises (uscc, name, county, township, industry, first_seen, last_seen) "
                       "VALUES (?,?,?,?,?,?,?)", (uscc, f"企业{i}", "舞阳县", f"乡镇{i % 12:02d}", "机械", "", ""))
            received = datetime.combine(AS_OF - timedelta(days=rnd.randint(1, 100)), datetime.min.time())
            cur = db.execute(
                "INSERT INTO submissions (uscc, received_at, file_name, sha256, template_version, valid, errors, warnings,"
                " findings, name, county, township, industry, risks_major, risks_significant, risks_general, risks_low,"
                " risks_unrated, posts, employees, hazards) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (uscc, received.isoformat(), f"{i}.xlsx", f"sha-{i}", "1.2", 1, 0, 0, 3, f"企业{i}", "舞阳县",
                 f"乡镇{i % 12:02d}", "机械", 1, 4, 10, 15, 0, len(posts), len(sample.rows["employee"]), 0))
            sid = cur.lastrowid
            workers = [dict(e, mobile=f"139{i:04d}{j:04d}") for j, e in enumerate(sample.rows["employee"])]
            rows = [(sid, "post", r + 3, json.dumps(p, ensure_ascii=False)) for r, p in enumerate(posts)]
            rows += [(sid, "employee", r + 3, json.dumps(e, ensure_ascii=False)) for r, e in enumerate(workers)]
            db.executemany("INSERT INTO records (submission_id, register, row, data) VALUES (?,?,?,?)", rows)
            out.append((uscc, posts, workers))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER = """
import sys, uvicorn
from dpsheets.web.app import create_app
from dpsheets.web.security import Limits
app = create_app(sys.argv[1], limits=Limits(quiz_per_worker=10**6, quiz_per_address=10**9))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def _answers(page: str) -> dict[str, str]:
    card = {k: html.unescape(v).strip() for k, v in re.findall(r'<dd id="card-(\w+)"[^>]*>(.*?)</dd>', page, re.S)}
    out = {}
    for key, value, text in re.findall(r'<input type="radio" name="q_(\w+)" value="(\d+)"[^>]*>(.*?)</label>', page, re.S):
        if html.unescape(text).strip() == card[key]:
            out[f"q_{key}"] = value
    return out


@contextmanager
def archive_target(server: str | None) -> Iterator[Path | str]:
    """An empty archive: an SQLite file in a temporary folder, or a schema of its own in the PostgreSQL database
    *server* (dropped at the end)."""
    if not server:
        with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
            yield Path(tmp) / "档案.sqlite"
        return
    import sqlalchemy as sa

    from dpsheets.county.database import database_url

    url = database_url(server)
    schema = f"bench_serve_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def run(enterprises: int, clients: int, seconds: float, server: str | None = None) -> None:
    with archive_target(server) as path:
        print(f"archive: {'PostgreSQL ' + display(server) if server else 'SQLite file'}")
        started = time.perf_counter()
        data = synthetic_archive(path, enterprises)
        with Archive(path) as a:
            secret = a.secret(QR_SECRET)
            users.add(a, "bench", STAFF_PASSWORD, "舞阳县", now=datetime.combine(AS_OF, datetime.min.time()))
        print(f"archive: {enterprises} enterprises, {sum(len(p) for _, p, _ in data)} posts "
              f"({time.perf_counter() - started:.1f} s to build)")
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(path), str(port)])
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            targets = [(qr.post_token(secret, uscc, p["workshop"], p["post"]), p, workers)
                       for uscc, posts, workers in data for p in posts]
            first = time.perf_counter()
            httpx.get(f"{base}/p/{targets[0][0]}")  # the first token lookup fills the token table
            print(f"first scan after start (QR token table built): {(time.perf_counter() - first) * 1000:.0f} ms")
            gets, posts_ = _load(base, targets, clients, seconds, post=False)
            _report("GET  /p/TOKEN  (post page)", gets, seconds)
            _, posts_ = _load(base, targets, clients, seconds, post=True)
            _report("POST /p/TOKEN  (confirmation)", posts_, seconds)
            _staff(base, targets)
            with Archive(path) as a:
                n = a.db.execute("SELECT COUNT(*) FROM confirmations").fetchone()[0]
            print(f"confirmations recorded: {n} (a worker's second confirmation on a day is acknowledged, not stored)")
        finally:
            proc.terminate()
            proc.wait(10)


def _load(base: str, targets: list, clients: int, seconds: float, *, post: bool) -> tuple[list[float], list[float]]:
    gets: list[float] = []
    posts: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=base, timeout=30) as c:
            while time.perf_counter() < stop:
                token, p, workers = rnd.choice(targets)
                t0 = time.perf_counter()
                r = c.get(f"/p/{token}")
                t1 = time.perf_counter()
                assert r.status_code == 200, r.status_code
                if not post:
                    with lock:
                        gets.append(t1 - t0)
                    continue
                who = rnd.choice([w for w in workers if w["post"] == p["post"]])
                csrf = re.findall(r'name="csrf" value="([^"]+)"', r.text)[-1]
                form = {"csrf": csrf, "name": who["name"], "phone": who["mobile"][-4:], **_answers(r.text)}
                t2 = time.perf_counter()
                r = c.post(f"/p/{token}", data=form)
                t3 = time.perf_counter()
                assert r.status_code == 200 and 'id="confirmed"' in r.text, r.text[:300]
                with lock:
                    gets.append(t1 - t0)
                    posts.append(t3 - t2)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return gets, posts


def _confirm(c: httpx.Client, target: tuple, rnd: random.Random) -> None:
    token, p, workers = target
    page = c.get(f"/p/{token}").text
    who = rnd.choice([w for w in workers if w["post"] == p["post"]])
    csrf = re.findall(r'name="csrf" value="([^"]+)"', page)[-1]
    r = c.post(f"/p/{token}", data={"csrf": csrf, "name": who["name"], "phone": who["mobile"][-4:], **_answers(page)})
    assert r.status_code == 200 and 'id="confirmed"' in r.text, r.text[:300]


def _staff(base: str, targets: list, rounds: int = 12) -> None:
    """The staff list (and 重点检查企业) after a confirmation each, and the list when nothing changed."""
    rnd = random.Random(7)
    after: list[float] = []
    cached: list[float] = []
    ranked: list[float] = []
    with httpx.Client(base_url=base, timeout=120) as c:
        page = c.get("/staff/login").text
        csrf = re.findall(r'name="csrf" value="([^"]+)"', page)[-1]
        r = c.post("/staff/login", data={"csrf": csrf, "username": "bench", "password": STAFF_PASSWORD})
        assert r.status_code == 303, r.text[:300]
        for i in range(rounds):
            _confirm(c, rnd.choice(targets), rnd)
            t0 = time.perf_counter()
            r = c.get("/staff/enforcement" if i % 2 else "/staff")
            (ranked if i % 2 else after).append(time.perf_counter() - t0)
            assert r.status_code == 200 and ("enforcement" in r.text if i % 2 else 'id="enterprises"' in r.text)
            t0 = time.perf_counter()
            assert c.get("/staff").status_code == 200
            cached.append(time.perf_counter() - t0)
    for label, samples in (("GET  /staff  after a confirmation", after), ("GET  /staff/enforcement  after a confirmation",
                                                                          ranked), ("GET  /staff  nothing changed", cached)):
        print(f"{label}: p50 {statistics.median(samples) * 1000:7.1f} ms  max {max(samples) * 1000:7.1f} ms  "
              f"({len(samples)} requests)  {_load_average()}")


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def _report(label: str, samples: list[float], seconds: float) -> None:
    if not samples:
        print(f"{label}: no samples")
        return
    q = statistics.quantiles(samples, n=100)
    p95 = q[94] * 1000
    print(f"{label}: {len(samples) / seconds:7.1f} req/s  p50 {q[49] * 1000:6.1f} ms  p95 {p95:6.1f} ms  "
          f"p99 {q[98] * 1000:6.1f} ms  ({len(samples)} requests)  target p95 < 100 ms: {'met' if p95 < 100 else 'NOT met'}"
          f"  {_load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--archive", default=None, metavar="URL",
                        help="a PostgreSQL database (postgresql://…): the archive is a schema of its own in it")
    args = parser.parse_args()
    run(args.enterprises, args.clients, args.seconds, args.archive)


if __name__ == "__main__":
    main()
