"""An archive written by the released schema (SQLite, ``PRAGMA user_version = 1``) upgrades in place.

The old archive is built here with the released DDL and the released writer (copied verbatim
below, raw sqlite3), then opened by today's Archive: nothing is lost, the typed record rows are
filled from the JSON records, and the roll-up equals the roll-up of the same submissions
archived by today's code, sheet by sheet.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from datetime import date, datetime, timedelta

import pandas as pd
from archive_builders import workbook_data
from builders import AS_OF

from dpsheets.config import Config
from dpsheets.county import schema
from dpsheets.county.archive import SCHEMA_VERSION, Archive
from dpsheets.county.rollup import rollup_archives
from dpsheets.county.summary_book import write_summary
from dpsheets.rules.checks import check_workbook
from dpsheets.rules.findings import find
from dpsheets.rules.grading import risk_level
from dpsheets.rules.problems import Report
from dpsheets.workbook.samples import plant, valid_uscc

read_excel = functools.partial(pd.read_excel, engine="openpyxl")

RELEASED_DDL = """
CREATE TABLE enterprises (
    uscc TEXT PRIMARY KEY, name TEXT NOT NULL, county TEXT, township TEXT, industry TEXT,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL
);
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY, uscc TEXT NOT NULL REFERENCES enterprises(uscc), received_at TEXT NOT NULL,
    file_name TEXT NOT NULL, stored_name TEXT, sha256 TEXT NOT NULL UNIQUE, template_version TEXT,
    filled_on TEXT, valid INTEGER NOT NULL, errors INTEGER NOT NULL, warnings INTEGER NOT NULL,
    findings INTEGER NOT NULL, name TEXT, county TEXT, township TEXT, industry TEXT,
    risks_major INTEGER NOT NULL, risks_significant INTEGER NOT NULL, risks_general INTEGER NOT NULL,
    risks_low INTEGER NOT NULL, risks_unrated INTEGER NOT NULL, posts INTEGER NOT NULL,
    employees INTEGER NOT NULL, hazards INTEGER NOT NULL
);
CREATE INDEX submissions_by_enterprise ON submissions(uscc, received_at);
CREATE TABLE records (
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    register TEXT NOT NULL, row INTEGER NOT NULL, data TEXT NOT NULL
);
CREATE INDEX records_by_submission ON records(submission_id, register);
CREATE TABLE problems (
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    code TEXT NOT NULL, severity TEXT NOT NULL, sheet TEXT, row INTEGER, column_name TEXT, cell TEXT,
    message TEXT NOT NULL
);
CREATE INDEX problems_by_submission ON problems(submission_id);
CREATE TABLE hazards (
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    row INTEGER NOT NULL, number TEXT, name TEXT, location TEXT, level TEXT, status TEXT,
    found_on TEXT, deadline TEXT, completed_on TEXT, unit TEXT, owner TEXT, has_plan INTEGER NOT NULL
);
CREATE INDEX hazards_by_submission ON hazards(submission_id);
CREATE TABLE ledger_dates (
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, day TEXT NOT NULL
);
CREATE INDEX ledger_dates_by_submission ON ledger_dates(submission_id, kind);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, original_name TEXT NOT NULL, processing_name TEXT NOT NULL,
    state TEXT NOT NULL, destination TEXT, final_name TEXT, reason TEXT, submission_id INTEGER,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX jobs_by_state ON jobs(state);
"""


def _iso(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def released_add_submission(db, data, report, *, file_name, sha256, received_at, config):
    """The released writer (dpsheets/county/archive.py before the SQLAlchemy archive), verbatim in substance."""
    ent = data.enterprise
    uscc, when = ent["uscc"], received_at.isoformat(timespec="seconds")
    db.execute(
        "INSERT INTO enterprises (uscc, name, county, township, industry, first_seen, last_seen) VALUES (?,?,?,?,?,?,?) "
        "ON CONFLICT(uscc) DO UPDATE SET name=excluded.name, county=excluded.county, township=excluded.township, "
        "industry=excluded.industry, last_seen=excluded.last_seen",
        (uscc, ent["name"] or uscc, ent["county"], ent["township"], ent["industry"], when, when))
    counts = report.counts()
    levels = {"重大风险": 0, "较大风险": 0, "一般风险": 0, "低风险": 0, None: 0}
    for r in data.records("risk"):
        level = risk_level(r, config)
        levels[level if level in levels else None] += 1
    cur = db.execute(
        "INSERT INTO submissions (uscc, received_at, file_name, stored_name, sha256, template_version, filled_on, valid,"
        " errors, warnings, findings, name, county, township, industry, risks_major, risks_significant, risks_general,"
        " risks_low, risks_unrated, posts, employees, hazards) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (uscc, when, file_name, None, sha256, data.template_version, _iso(ent["filled_on"]), int(report.valid),
         counts["error"], counts["warning"], counts["finding"], ent["name"], ent["county"], ent["township"],
         ent["industry"], levels["重大风险"], levels["较大风险"], levels["一般风险"], levels["低风险"], levels[None],
         len(data.records("post")), len(data.records("employee")), len(data.records("hazard"))))
    sid = cur.lastrowid
    db.executemany("INSERT INTO records (submission_id, register, row, data) VALUES (?,?,?,?)",
                   ((sid, key, r.row, json.dumps({k: _iso(v) for k, v in r.values.items() if v is not None},
                                                  ensure_ascii=False))
                    for key, sheet in data.sheets.items() for r in sheet.records))
    db.executemany("INSERT INTO problems VALUES (?,?,?,?,?,?,?,?)",
                   ((sid, p.code, p.severity, p.sheet, p.row, p.column, p.cell, p.message) for p in report.problems))
    db.executemany("INSERT INTO hazards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   ((sid, h.row, h["number"], h["name"], h["location"], h["level"], h["status"], _iso(h["found_on"]),
                     _iso(h["deadline"]), _iso(h["completed_on"]), h["unit"], h["owner"], int(bool(h["plan"])))
                    for h in data.records("hazard")))
    db.executemany("INSERT INTO ledger_dates VALUES (?,?,?)",
                   ((sid, kind, r["date"].isoformat()) for kind in ("training", "drill", "quiz")
                    for r in data.records(kind) if r["date"]))
    return sid


def submissions(tmp):
    """(checked workbook, received) for 8 enterprises, two submissions each, some of them stale or overdue."""
    out, config = [], Config()
    for i in range(8):
        for k, days_ago in enumerate((150 + 11 * i, 5 + 13 * i)):
            received = datetime.combine(AS_OF - timedelta(days=days_ago), datetime.min.time()).replace(hour=9)
            p = plant(received.date(), seed=100 * i + k, uscc=valid_uscc(f"9141112100{i:07d}"), name=f"企业{i}",
                      township=("舞泉镇", "孟寨镇")[i % 2], industry=("机械", "建材")[i % 2], hazards=4 + i, risks=5 + k)
            if i % 3 == 0:
                p.rows["drill"] = []
            data = workbook_data(p.enterprise, p.rows)  # as the reader hands it over (no .xlsx round trip)
            report = Report(check_workbook(data, received.date(), config) + find(data, received.date(), config))
            out.append(((data, report), f"{i}-{k}.xlsx", f"sha-{i}-{k}", received))
    return out


def test_released_archive_upgrades_in_place_and_rolls_up_identically(tmp_path):
    config = Config()
    subs = submissions(tmp_path)
    old = tmp_path / "旧档案.sqlite"
    db = sqlite3.connect(old)
    db.executescript(RELEASED_DDL)
    db.execute("PRAGMA user_version = 1")
    for (data, report), name, sha, received in subs:
        released_add_submission(db, data, report, file_name=name, sha256=sha, received_at=received, config=config)
    db.execute("INSERT INTO jobs (source, original_name, processing_name, state, created_at, updated_at) "
               "VALUES ('a.xlsx', 'a.xlsx', 'a.xlsx', 'claimed', '2026-11-27T09:00:00', '2026-11-27T09:00:00')")
    db.commit()
    before = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("enterprises", "submissions", "records", "problems", "hazards", "ledger_dates", "jobs")}
    db.close()

    new = tmp_path / "新档案.sqlite"
    with Archive(new) as a:
        for (data, report), name, sha, received in subs:
            a.add_submission(data, report, file_name=name, sha256=sha, received_at=received, config=config)

    with Archive(old) as a:  # the upgrade happens here
        assert a.scalar("SELECT version_num FROM alembic_version") == SCHEMA_VERSION
        assert a.scalar("PRAGMA user_version") == int(SCHEMA_VERSION)
        counts = a.table_counts()
        assert {t: counts[t] for t in before} == before  # nothing lost
        with Archive(new) as fresh:  # the typed rows, filled from the JSON records, equal those written today
            for table in (*schema.record_tables.values(), schema.hazards):
                cols = ", ".join(c.name for c in table.columns)
                assert a.rows(f"SELECT {cols} FROM {table.name} ORDER BY submission_id, row") == \
                       fresh.rows(f"SELECT {cols} FROM {table.name} ORDER BY submission_id, row"), table.name
            assert a.rows("SELECT uscc, city FROM enterprises ORDER BY uscc") == \
                   fresh.rows("SELECT uscc, city FROM enterprises ORDER BY uscc")
        assert [p["code"] for p in a.problems(1)] == [p.code for p in subs[0][0][1].problems]
        assert [j["processing_name"] for j in a.unfinished_jobs("/any/folder")] == ["a.xlsx"]  # its own journal

    old_book = write_summary(rollup_archives([old], as_of=AS_OF), tmp_path / "old.xlsx")
    new_book = write_summary(rollup_archives([new], as_of=AS_OF), tmp_path / "new.xlsx")
    sheets = pd.ExcelFile(old_book, engine="openpyxl").sheet_names
    assert "企业明细" in sheets and "逾期隐患" in sheets
    for sheet in sheets:
        if sheet.startswith("_"):
            continue
        pd.testing.assert_frame_equal(read_excel(old_book, sheet_name=sheet), read_excel(new_book, sheet_name=sheet))
    assert len(read_excel(old_book, sheet_name="企业明细")) == 8
    # and it is not rolled up from nothing: overdue hazards and enforcement entries are there
    assert read_excel(old_book, sheet_name="企业明细")["逾期隐患"].sum() > 0
    assert len(read_excel(old_book, sheet_name="重点检查企业")) > 0


RELEASED_WEB_DDL = """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE qr_tokens (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, uscc TEXT NOT NULL, workshop TEXT NOT NULL DEFAULT '',
    post TEXT NOT NULL DEFAULT ''
);
CREATE INDEX qr_tokens_by_enterprise ON qr_tokens(uscc, kind);
CREATE TABLE confirmations (
    id INTEGER PRIMARY KEY, uscc TEXT NOT NULL, day TEXT NOT NULL, at TEXT NOT NULL, name TEXT NOT NULL,
    workshop TEXT NOT NULL DEFAULT '', post TEXT NOT NULL, result TEXT NOT NULL, via TEXT NOT NULL,
    address TEXT
);
CREATE INDEX confirmations_by_enterprise ON confirmations(uscc, day);
CREATE TABLE users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, county TEXT, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL, target TEXT,
    detail TEXT, address TEXT
);
CREATE INDEX audit_by_time ON audit(at);
"""


def test_archive_of_the_web_service_release_upgrades_too(tmp_path):
    """``PRAGMA user_version = 2`` (the release with the web service): its confirmations, users and audit stay."""
    (data, report), name, sha, received = submissions(tmp_path)[0]
    old = tmp_path / "v2.sqlite"
    db = sqlite3.connect(old)
    db.executescript(RELEASED_DDL + RELEASED_WEB_DDL)
    db.execute("PRAGMA user_version = 2")
    released_add_submission(db, data, report, file_name=name, sha256=sha, received_at=received, config=Config())
    uscc = data.enterprise["uscc"]
    db.execute("INSERT INTO confirmations (uscc, day, at, name, workshop, post, result, via) VALUES "
               "(?, '2026-11-20', '2026-11-20T10:00:00', '张三', '机加工车间', '车工', '全部正确', '手机扫码')", (uscc,))
    db.execute("INSERT INTO users VALUES ('wuyang', 'hash', '舞阳县', '2026-11-01', '2026-11-01')")
    db.execute("INSERT INTO settings VALUES ('qr_secret', 'kept')")
    db.commit()
    db.close()
    with Archive(old) as a:
        assert a.scalar("SELECT version_num FROM alembic_version") == SCHEMA_VERSION
        assert a.secret("qr_secret") == "kept"
        assert [r["name"] for r in a.rows("SELECT name FROM confirmations")] == ["张三"]
        assert a.count("users") == 1 and a.count("risks") == len(data.records("risk"))
    row = rollup_archives([old], as_of=AS_OF).enterprises[0]
    assert row.quiz_people_12m >= 1  # the phone confirmation counts in the roll-up after the upgrade


def test_an_archive_at_0003_gets_report_dates_and_sanyou_rows_on_both_engines(archive_target):
    """Revision 0004: ``hazards.reported_on`` and the 三有五化 tables, filled from the JSON records kept before."""
    import sqlalchemy as sa
    from alembic import command

    from dpsheets.county.database import _alembic_config, create_engine, writing

    (data, _), name, sha, received = next(s for s in submissions(None)  # one with a reported 重大隐患
                                          if any(h["reported_on"] for h in s[0][0].records("hazard")))
    engine = create_engine(archive_target)
    with writing(engine) as conn:
        command.upgrade(_alembic_config(conn), "0003")
    with writing(engine) as conn:  # what a 0003 archive kept: the JSON records and hazards without a report date
        conn.execute(sa.text("INSERT INTO enterprises (uscc, name, first_seen, last_seen) VALUES (:u, 'x', 't', 't')"),
                     {"u": data.enterprise["uscc"]})
        conn.execute(sa.text(
            "INSERT INTO submissions (id, uscc, received_at, file_name, sha256, valid, errors, warnings, findings, "
            "risks_major, risks_significant, risks_general, risks_low, risks_unrated, posts, employees, hazards) "
            "VALUES (1, :u, :r, :f, :s, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, :h)"),
            {"u": data.enterprise["uscc"], "r": received.isoformat(), "f": name, "s": sha,
             "h": len(data.records("hazard"))})
        conn.execute(sa.text("INSERT INTO records (submission_id, register, row, data) VALUES (1, :g, :r, :d)"), [
            {"g": key, "r": r.row, "d": json.dumps({k: _iso(v) for k, v in r.values.items() if v is not None},
                                                 ensure_ascii=False)}
            for key, sheet in data.sheets.items() for r in sheet.records])
        conn.execute(sa.text("INSERT INTO hazards (submission_id, row, level, has_plan) VALUES (1, :r, :l, 1)"),
                     [{"r": h.row, "l": h["level"]} for h in data.records("hazard")])
    engine.dispose()

    with Archive(archive_target) as a:  # the upgrade to 0004 happens here
        assert a.scalar("SELECT version_num FROM alembic_version") == SCHEMA_VERSION
        reported = {r["row"]: r["reported_on"] for r in a.rows("SELECT row, reported_on FROM hazards")}
        expected = {h.row: h["reported_on"] for h in data.records("hazard")}
        assert any(expected.values())  # the sample has 重大隐患 with a report date
        assert {r: (d if d is None or isinstance(d, date) else date.fromisoformat(d)) for r, d in reported.items()} \
            == expected
        for key in ("inspection_plan", "reward", "procedure", "unit_duty", "sign"):
            table = schema.record_tables[key]
            assert a.count(table.name) == len(data.records(key)) > 0, key
        sign = data.records("sign")[0]
        stored = a.rows("SELECT * FROM signs WHERE row = :r", r=sign.row)[0]
        assert (stored["name"], stored["count"]) == (sign["name"], sign["count"])
