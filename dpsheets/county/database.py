"""Opening the archive database: an SQLite file (the default) or a PostgreSQL server, migrated on open.

A *target* is a path (``档案.sqlite``) or a URL (``postgresql://user@host/db``,
``sqlite:///path``). The schema is versioned with Alembic; the migrations live inside the
package. An SQLite archive written before Alembic (``PRAGMA user_version = 1``) is recognised,
stamped with the first revision and upgraded in place. Several processes may open the same
database at once: PostgreSQL migrations run under an advisory lock, SQLite ones in an
immediate transaction. Connection strings are only ever shown without their password.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from dpsheets.errors import DpsheetsError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LEGACY_REVISIONS = {1: "0001", 2: "0002"}  # the schemas released as PRAGMA user_version = 1 and 2
ADVISORY_LOCK = 4_117_021  # any constant: serialises migrations of one PostgreSQL database
ENV_VAR = "DPSHEETS_ARCHIVE"
WRITE = "dpsheets_write"


def is_url(target: str | Path) -> bool:
    return isinstance(target, str) and "://" in target


def display(target: str | Path | URL) -> str:
    """The target as it may be shown to a user: a URL without its password."""
    if isinstance(target, URL):
        return target.render_as_string(hide_password=True)
    if is_url(target):
        try:
            return make_url(str(target)).render_as_string(hide_password=True)
        except sa.exc.ArgumentError:
            return "（无法解析的数据库地址）"
    return str(target)


def database_url(target: str | Path) -> URL:
    """The SQLAlchemy URL of *target*; PostgreSQL URLs use the psycopg (3) driver."""
    if not is_url(target):
        return URL.create("sqlite", database=str(Path(target)))
    try:
        url = make_url(str(target))
    except sa.exc.ArgumentError as exc:
        raise DpsheetsError("archive.bad-url", f"档案数据库地址“{display(target)}”无法识别。请写成 "
                            "postgresql://用户名@服务器/数据库 或档案库文件的路径。") from exc
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise DpsheetsError("archive.bad-url", f"不支持的档案数据库“{display(url)}”：只支持 SQLite 文件和 PostgreSQL。")
    return url


def resolve_target(given: str | None, config_archive: str = "", default: Path | None = None) -> str | Path | None:
    """--archive, else the DPSHEETS_ARCHIVE environment variable, else ``archive`` in dpsheets.toml, else *default*."""
    for value in (given, os.environ.get(ENV_VAR), config_archive):
        if value:
            return value if is_url(value) else Path(value)
    return default


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: committed at the end, rolled back on any exception."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            yield conn


def create_engine(target: str | Path) -> Engine:
    url = database_url(target)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # one connection per Archive, as sqlite3 gives (per-connection PRAGMAs and temp tables keep working)
        engine = sa.create_engine(url, poolclass=sa.pool.StaticPool,
                                  connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi: Any, record: Any) -> None:
            dbapi.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi.cursor()
            for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 60000"):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # a writing transaction takes the write lock when it starts (no deadlock between two upgrading readers)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=8,
                            connect_args={"connect_timeout": 10, "application_name": "dpsheets"})


@functools.cache
def _script():  # noqa: ANN202
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR))


def head_revision() -> str:
    return str(_script().get_current_head())


def _alembic_config(conn: Connection):  # noqa: ANN202
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> str | None:
    """Bring the schema to the newest revision; returns the revision found before (None: empty database)."""
    from alembic import command

    head = head_revision()
    with engine.connect() as conn:
        if current_revision(conn) == head:
            return head
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
        found = current_revision(conn)
        if found is None and conn.dialect.name == "sqlite":
            found = _legacy_sqlite(conn)
        if found == head:
            return found
        if found is not None and found not in {s.revision for s in _script().walk_revisions()}:
            raise DpsheetsError("archive.newer", f"档案库是新版 dpsheets 创建的（结构版本 {found}），请升级 dpsheets 后再使用。")
        command.upgrade(_alembic_config(conn), "head")
        if conn.dialect.name == "sqlite":  # an old dpsheets refuses it instead of damaging it
            conn.exec_driver_sql(f"PRAGMA user_version = {int(head)}")
    return found


def _legacy_sqlite(conn: Connection) -> str | None:
    """An archive from before Alembic: stamp it with the revision its ``user_version`` stands for."""
    from alembic import command

    version = conn.exec_driver_sql("PRAGMA user_version").scalar() or 0
    if version == 0:
        return None
    if version not in LEGACY_REVISIONS:
        raise DpsheetsError("archive.newer", f"档案库是新版 dpsheets 创建的（结构版本 {version}），请升级 dpsheets 后再使用。")
    command.stamp(_alembic_config(conn), LEGACY_REVISIONS[version])
    return LEGACY_REVISIONS[version]


def explain(exc: BaseException, target: str | Path) -> DpsheetsError:
    """A Chinese message for a database that cannot be reached or used (an ``env.`` code: the machine's
    fault, not the file's; files wait in 收件箱/处理中 until the next run)."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, sqlite3.Error) or isinstance(exc, (sqlite3.Error, OSError)):
        from dpsheets.fsutil import environment_error

        found = environment_error(orig if isinstance(orig, sqlite3.Error) else exc, archive=Path(str(target)))
        if found is not None:
            return found
    shown = display(target)
    state = getattr(orig, "sqlstate", None) or ""
    if state == "42501" or "permission denied" in str(orig or exc).lower():
        return DpsheetsError("env.archive-no-rights", f"档案数据库 {shown} 拒绝了操作：当前用户没有所需的权限。"
                             "请让数据库管理员授予该用户建表和读写权限（或换用有权限的用户）。")
    if state == "3D000":
        return DpsheetsError("env.archive-no-database", f"档案数据库 {shown} 不存在。请先在服务器上创建该数据库。")
    if state.startswith("28"):
        return DpsheetsError("env.archive-login", f"无法登录档案数据库 {shown}：用户名或密码不对，或服务器不允许该用户连接。")
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return DpsheetsError("env.archive-unreachable", f"无法连接档案数据库 {shown}。请检查服务器地址和端口、网络是否通、"
                             "数据库服务是否已启动；收件箱里的文件没有被移动，连接恢复后再运行即可。")
    return DpsheetsError("env.archive-error", f"档案数据库 {shown} 出错（{type(orig or exc).__name__}）。请联系数据库管理员。")
