"""The county staff accounts of the web service, kept in the archive (``dpsheets user``).

A user belongs to one county (sees only that county's enterprises) or to none (a province
account: sees all). Passwords are stored as argon2 hashes; every change is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from dpsheets.county.archive import Archive
from dpsheets.errors import DpsheetsError

NAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,40}$")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    county: str | None  # None: province account (all counties)

    @property
    def scope(self) -> str:
        return self.county or "全省"


def get(archive: Archive, username: str) -> User | None:
    row = archive.db.execute("SELECT username, password_hash, county FROM users WHERE username = ?", (username,)).fetchone()
    return User(row[0], row[1], row[2]) if row else None


def all_users(archive: Archive) -> list[User]:
    return [User(r[0], r[1], r[2]) for r in archive.db.execute("SELECT username, password_hash, county FROM users ORDER BY username")]


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DpsheetsError("user.weak-password", f"密码至少 {MIN_PASSWORD} 个字符。")


def add(archive: Archive, username: str, password: str, county: str | None, *, now: datetime, by: str = "命令行") -> User:
    from dpsheets.web.security import hash_password

    if not NAME.match(username):
        raise DpsheetsError("user.bad-name", "用户名只能用 2–40 个字母、数字、汉字、下划线、点或减号。")
    _check_password(password)
    county = (county or "").strip() or None
    with archive.transaction() as tx:
        if tx.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            raise DpsheetsError("user.exists", f"用户 {username} 已存在。修改密码请用 `dpsheets user passwd {username}`。")
        when = now.isoformat(timespec="seconds")
        tx.execute("INSERT INTO users (username, password_hash, county, created_at, updated_at) VALUES (?,?,?,?,?)",
                   (username, hash_password(password), county, when, when))
        archive.audit(by, "user.add", username, f"范围：{county or '全省'}", now=now, db=tx)
    user = get(archive, username)
    assert user is not None
    return user


def remove(archive: Archive, username: str, *, now: datetime, by: str = "命令行") -> None:
    with archive.transaction() as tx:
        if tx.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 0:
            raise DpsheetsError("user.unknown", f"没有用户 {username}。用 `dpsheets user list` 查看全部用户。")
        archive.audit(by, "user.remove", username, now=now, db=tx)


def set_password(archive: Archive, username: str, password: str, *, now: datetime, by: str = "命令行") -> None:
    from dpsheets.web.security import hash_password

    _check_password(password)
    with archive.transaction() as tx:
        cur = tx.execute("UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?",
                         (hash_password(password), now.isoformat(timespec="seconds"), username))
        if cur.rowcount == 0:
            raise DpsheetsError("user.unknown", f"没有用户 {username}。用 `dpsheets user list` 查看全部用户。")
        archive.audit(by, "user.passwd", username, now=now, db=tx)
