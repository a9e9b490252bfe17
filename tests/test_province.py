"""The province database: roll-ups of any area in SQL, push of county archives, integrity check, operations.

Every test runs on SQLite and on the real PostgreSQL server (``archive_target``). A small province of
three counties in two cities is built from sample rows; each county also gets an archive of its own,
so that "the county from the province database" can be compared with "the county by itself".
"""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from archive_builders import at, workbook_data
from builders import AS_OF, small_workbook
from click.testing import CliRunner
from openpyxl import load_workbook

from dpsheets.cli import cli
from dpsheets.config import Config
from dpsheets.county.archive import Archive
from dpsheets.county.archive_ops import check, push
from dpsheets.county.county import rollup
from dpsheets.county.summary_book import MONTHLY_SHEET, read_summary, write_summary
from dpsheets.rules.checks import check_workbook
from dpsheets.rules.findings import find
from dpsheets.rules.problems import Report
from dpsheets.workbook.samples import plant, valid_uscc

read_excel = functools.partial(pd.read_excel, engine="openpyxl")
COUNTIES = (("411121", "舞阳县", "漯河市"), ("411122", "临颍县", "漯河市"), ("410102", "中原区", "郑州市"))
PER_COUNTY = 5


def enterprises(county: int) -> list[str]:
    code = COUNTIES[county][0]
    return [valid_uscc(f"91{code}{county:02d}{i:07d}") for i in range(PER_COUNTY)]


def fill(archive: Archive, county: int) -> None:
    """Two submissions of each enterprise of *county*: an older one and a newer one (some stale, some with overdue)."""
    config = Config()
    _, name, _ = COUNTIES[county]
    for i, code in enumerate(enterprises(county)):
        for k, days_ago in enumerate((200 + 9 * i, 3 + 37 * i)):
            day = AS_OF - timedelta(days=days_ago)
            p = plant(day, seed=100 * county + 10 * i + k, uscc=code, name=f"{name}企业{i}", county=name,
                      township=("城关镇", "北舞渡镇")[i % 2], industry=("机械", "建材", "商贸")[i % 3],
                      hazards=3 + i, risks=4, posts=2, employees=3)
            if (county + i) % 3 == 0:
                p.rows["drill"] = []
            data = workbook_data(p.enterprise, p.rows)
            report = Report(check_workbook(data, day, config) + find(data, day, config))
            archive.add_submission(data, report, file_name=f"{code}-{k}.xlsx", sha256=f"{code}-{k}", received_at=at(day))


@pytest.fixture
def province(archive_target, tmp_path):
    """(the province database with all three counties, each county's own SQLite archive)."""
    own = []
    with Archive(archive_target) as everything:
        for c in range(len(COUNTIES)):
            fill(everything, c)
            with Archive(tmp_path / f"county{c}.sqlite") as a:
                fill(a, c)
            own.append(tmp_path / f"county{c}.sqlite")
    return archive_target, own


def sheets(book: Path) -> dict[str, pd.DataFrame]:
    return {name: frame for name, frame in pd.read_excel(book, sheet_name=None, engine="openpyxl").items()
            if not name.startswith("_")}


def assert_same_books(a: Path, b: Path) -> None:
    left, right = sheets(a), sheets(b)
    assert list(left) == list(right)
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)


def test_county_from_the_province_database_equals_the_county_by_itself(province, tmp_path):
    database, own = province
    for c, (_, county, city) in enumerate(COUNTIES):
        from_db = rollup(archives=[database], as_of=AS_OF, where=f"{city}/{county}")
        alone = rollup(archives=[own[c]], as_of=AS_OF, level="县")
        assert from_db.level == "县" and len(from_db.enterprises) == PER_COUNTY
        assert {e.uscc for e in from_db.enterprises} == set(enterprises(c))
        assert_same_books(write_summary(from_db, tmp_path / f"db{c}.xlsx"), write_summary(alone, tmp_path / f"own{c}.xlsx"))
    city = rollup(archives=[database], as_of=AS_OF, where="漯河市")
    assert city.level == "市" and {e.county for e in city.enterprises} == {"舞阳县", "临颍县"}
    assert city.totals().sums["hazards_overdue"] > 0


def test_city_and_province_from_county_summaries_agree_with_the_database(province, tmp_path):
    database, own = province
    books = [write_summary(rollup(archives=[p], as_of=AS_OF, level="县"), tmp_path / f"县{c}.xlsx")
             for c, p in enumerate(own)]
    combined = rollup(summaries=books, as_of=AS_OF, level="省")
    from_db = rollup(archives=[database], as_of=AS_OF, level="省")
    assert len(from_db.enterprises) == PER_COUNTY * len(COUNTIES)
    assert_same_books(write_summary(combined, tmp_path / "合成.xlsx"), write_summary(from_db, tmp_path / "数据库.xlsx"))
    city = rollup(summaries=books[:2], as_of=AS_OF, level="市")
    assert_same_books(write_summary(city, tmp_path / "市合成.xlsx"),
                      write_summary(rollup(archives=[database], as_of=AS_OF, where="漯河市"), tmp_path / "市库.xlsx"))


def test_a_province_summary_carries_no_per_month_detail(province, tmp_path):
    """Nothing combines province summaries: its trend is counted in SQL, without the per-enterprise months."""
    database, _ = province
    from_db = rollup(archives=[database], as_of=AS_OF, level="省")
    per_enterprise = rollup(archives=[database], as_of=AS_OF, level="市")  # the same data, months kept
    assert from_db.monthly is None and per_enterprise.monthly is not None and len(per_enterprise.monthly) > 0
    assert from_db.trend == per_enterprise.trend and any(n for n in from_db.trend.values())
    book = write_summary(from_db, tmp_path / "省.xlsx")
    assert MONTHLY_SHEET not in load_workbook(book, read_only=True).sheetnames
    assert MONTHLY_SHEET in load_workbook(write_summary(per_enterprise, tmp_path / "市.xlsx"), read_only=True).sheetnames
    back = read_summary(book)
    assert back.level == "省" and back.monthly is None and back.trend == from_db.trend
    assert [e.uscc for e in back.enterprises] == [e.uscc for e in from_db.enterprises]


def test_push_is_idempotent_and_exact(archive_target, tmp_path):
    counties = []
    for c in range(2):
        with Archive(tmp_path / f"c{c}.sqlite") as a:
            fill(a, c)
        counties.append(tmp_path / f"c{c}.sqlite")
    first = [push(p, archive_target) for p in counties]
    assert [r.added for r in first] == [2 * PER_COUNTY] * 2 and all(r.present == 0 for r in first)
    with Archive(archive_target) as a:
        after_first = a.table_counts()
    again = push(counties[0], archive_target)
    assert again.added == 0 and again.present == 2 * PER_COUNTY
    with Archive(archive_target) as a, Archive(counties[0]) as c0, Archive(counties[1]) as c1:
        assert a.table_counts() == after_first
        sources = [c0.table_counts(), c1.table_counts()]
        assert after_first["hazards"] > 0
        assert all(after_first[t] == sources[0][t] + sources[1][t] for t in after_first if t != "jobs")
    for c, p in enumerate(counties):
        _, county, city = COUNTIES[c]
        assert_same_books(write_summary(rollup(archives=[p], as_of=AS_OF, level="县"), tmp_path / f"src{c}.xlsx"),
                          write_summary(rollup(archives=[archive_target], as_of=AS_OF, where=f"{city}/{county}"),
                                        tmp_path / f"dst{c}.xlsx"))
    pushed = CliRunner().invoke(cli, ["archive", "push", str(counties[1]), "--to", str(archive_target)])
    assert pushed.exit_code == 0 and "新增报送 0 份" in pushed.output


def test_check_counts_rows_and_finds_inconsistencies(archive_target):
    with Archive(archive_target) as a:
        fill(a, 0)
    result = check(archive_target)
    assert result.ok, result.problems
    assert result.counts["submissions"] == 2 * PER_COUNTY and result.counts["enterprises"] == PER_COUNTY
    assert result.counts["risks"] == 4 * 2 * PER_COUNTY
    shown = CliRunner().invoke(cli, ["archive", "--archive", str(archive_target), "check"])
    assert shown.exit_code == 0 and "完整性检查通过" in shown.output and "quizzes" in shown.output
    with Archive(archive_target) as a, a.transaction() as tx:
        tx.exec_driver_sql("UPDATE submissions SET hazards = hazards + 1 WHERE id = (SELECT MIN(id) FROM submissions)")
    broken = check(archive_target)
    assert broken.problems == ["报送的隐患数与隐患行数不符：1 处"]
    failed = CliRunner().invoke(cli, ["archive", "--archive", str(archive_target), "check"])
    assert failed.exit_code == 2 and "完整性问题" in failed.output


UNREACHABLE = "postgresql://clerk:s3cret-pw@127.0.0.1:9/province"  # port 9 (discard): nothing listens


def test_unreachable_server_is_explained_without_the_password(tmp_path):
    listed = CliRunner().invoke(cli, ["archive", "--archive", UNREACHABLE, "list"])
    assert listed.exit_code == 2
    assert "无法连接档案数据库" in listed.output and "s3cret" not in listed.output and "clerk" in listed.output
    root = tmp_path / "县"
    (root / "收件箱").mkdir(parents=True)
    small_workbook(root / "收件箱" / "a.xlsx", 1)
    ingested = CliRunner().invoke(cli, ["ingest", str(root), "--archive", UNREACHABLE, "--no-docs"])
    assert ingested.exit_code == 2 and "s3cret" not in ingested.output
    assert [p.name for p in (root / "收件箱").iterdir()] == ["a.xlsx"]  # nothing moved meanwhile
    assert not (root / "处理中").exists() or not any((root / "处理中").iterdir())


def test_database_user_without_rights_is_explained(pg_database, tmp_path):
    import uuid

    import sqlalchemy as sa

    role = f"clerk_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        conn.exec_driver_sql(f'CREATE SCHEMA "s_{role}"')  # owned by postgres: the clerk may not create tables in it
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "s_{role}" TO "{role}"')
    try:
        url = sa.engine.make_url(pg_database).set(username=role, password="pw-not-shown")
        url = url.render_as_string(hide_password=False) + f"?options=-csearch_path%3Ds_{role}"
        result = CliRunner().invoke(cli, ["archive", "--archive", url, "list"])
        assert result.exit_code == 2 and "没有所需的权限" in result.output and "pw-not-shown" not in result.output
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "s_{role}" CASCADE')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def test_archive_from_environment_and_configuration(archive_target, tmp_path, monkeypatch):
    with Archive(archive_target) as a:
        fill(a, 2)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DPSHEETS_ARCHIVE", str(archive_target))
    listed = CliRunner().invoke(cli, ["archive", "list"])
    assert listed.exit_code == 0 and "中原区企业0" in listed.output
    monkeypatch.delenv("DPSHEETS_ARCHIVE")
    (tmp_path / "dpsheets.toml").write_text(f'archive = "{archive_target}"\n', encoding="utf-8")
    out = CliRunner().invoke(cli, ["rollup", "--where", "郑州市", "--as-of", AS_OF.isoformat(), "-o", str(tmp_path / "汇总"),
                                   "--no-report"])
    assert out.exit_code == 0, out.output
    assert f"应报 {PER_COUNTY} 家，已报 {PER_COUNTY} 家" in out.output
    assert (tmp_path / "汇总" / f"汇总_市级_{AS_OF.isoformat()}.xlsx").is_file()


def test_queries_run_alongside_see_the_sessions_data_not_a_later_submission(pg_database):
    """On PostgreSQL the hazard lists and the trend are queried on connections of their own while the
    enterprises are read: they import the session's snapshot, so a submission archived meanwhile (by a
    county's watcher) is in none of the roll-up's sheets rather than in some."""
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import contextmanager

    import sqlalchemy as sa
    from conftest import pg_schema_url

    from dpsheets.county.rollup_sql import LATEST, Area, _alongside, _session

    url = pg_schema_url(pg_database)
    with Archive(url) as archive:
        fill(archive, 0)

    def latest(conn) -> list[str]:  # noqa: ANN001
        return sorted(u for (u,) in conn.execute(sa.text(f"SELECT uscc FROM {LATEST}")))

    with contextmanager(_session)((url,), AS_OF, Area()) as (conns, _, archives, snapshot):
        assert snapshot
        before = latest(conns[0])
        with Archive(url) as other:  # committed while the session is open
            fill(other, 2)
        with ThreadPoolExecutor(1) as pool:
            alongside = _alongside(pool, archives[0], snapshot, AS_OF, Area(), True, latest)()
        assert before == alongside == sorted(enterprises(0))
    assert len(rollup(archives=[url], as_of=AS_OF).enterprises) == 2 * PER_COUNTY  # a new roll-up sees both
