from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# The PostgreSQL server the archive tests use (a database of their own is created and dropped).
PG_SERVER = os.environ.get("DPSHEETS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this test session (URL), dropped at the end."""
    import sqlalchemy as sa

    from dpsheets.county.database import database_url

    server = database_url(PG_SERVER)
    name = f"dpsheets_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and not reachable at {PG_SERVER}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def pg_schema_url(database_url: str) -> str:
    """An empty schema of its own in the session database: a fresh archive for one test."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    return f"{database_url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_target(request, tmp_path):
    """Where a test's archive lives: an SQLite file, or a fresh schema on the real PostgreSQL server."""
    if request.param == "sqlite":
        return tmp_path / "档案.sqlite"
    return pg_schema_url(request.getfixturevalue("pg_database"))


@pytest.fixture
def new_archive_target(request, tmp_path, archive_target):
    """Another empty archive on the same engine as *archive_target*."""
    if isinstance(archive_target, Path):
        return tmp_path / "另一个档案.sqlite"
    return pg_schema_url(request.getfixturevalue("pg_database"))
