"""The web service's view of the archive: every query a page needs, in one place.

The archive is a county's (:class:`dpsheets.county.county.County`): an SQLite file or a
PostgreSQL database. The staff pages read the county's roll-up through ``County.rollup`` (the
same figures as the summary workbook), limited to the user's county. Each server thread has
its own connection (SQLite in WAL mode: the watcher writes while the service reads; writes
here are short transactions). County scoping is part of the queries: a county user's queries
carry ``county = ?``, so another county's enterprise is never read. QR tokens are resolved
through the ``qr_tokens`` table, which is brought up to date from new submissions when a token
is not found (tokens are HMACs under the archive's secret, see :mod:`dpsheets.documents.qr`, so
they are stable across submissions).

Throttling lives in the archive too, so that several server processes on one archive share it:
failed logins and quiz attempts are audited anyway, and :meth:`Store.login_throttled` and
:meth:`Store.quiz_throttled` count the recent ones per user name, worker and address in SQL.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dpsheets.config import Config
from dpsheets.county import confirmations as conf
from dpsheets.county import schema, users
from dpsheets.county.archive import Archive, insert_ignoring_duplicates
from dpsheets.county.county import County
from dpsheets.county.database import is_url
from dpsheets.county.rollup import EnterpriseRow, MissingRow, Rollup
from dpsheets.documents import qr
from dpsheets.rules.grading import risk_level
from dpsheets.rules.hazard_state import hazard_state
from dpsheets.web.security import Limits
from dpsheets.workbook.model import Record

QR_SECRET = "qr_secret"
LOGIN_OK, LOGIN_FAILED, LOGIN_THROTTLED = "login", "login.fail", "login.throttled"  # audit actions
SESSION_SECRET = "session_secret"
_TOKENS_UPTO = "qr_tokens_upto"
_PURGE_EVERY = 500  # used form tokens between purges of the expired ones


@dataclass(frozen=True)
class Target:
    """What a QR token opens: an enterprise, or one of its posts."""

    token: str
    kind: str  # "e" or "p"
    uscc: str
    workshop: str = ""
    post: str = ""


@dataclass
class PostView:
    target: Target
    enterprise: str
    county: str
    submission_id: int
    card: dict[str, Any]  # the post's record
    others: list[dict[str, Any]]  # the other posts (wrong options)
    employees: list[tuple[str, str]]  # (name, digits of the mobile)


@dataclass
class PublicView:
    name: str
    county: str
    township: str
    industry: str
    last_submission: str
    submission_id: int
    key_risks: list[dict[str, Any]]
    contacts: list[tuple[str, str]]
    risk_map: Any  # dpsheets.documents.riskmap.RiskMap


@dataclass
class FileView:
    """An enterprise's file for county staff."""

    uscc: str
    name: str
    county: str
    township: str
    industry: str
    submissions: list[Any]
    shown: Any  # the submission whose problems are shown
    problems: list[Any]
    hazards: list[dict[str, Any]]
    confirmations: list[conf.Confirmation]
    employees: int
    confirmed_people: int
    row: EnterpriseRow | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _record(values: dict[str, Any], row: int = 0) -> Record:
    return Record("", row, values, {}, {})


def _text(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


class Store:
    """The archive at *target* (a file or a postgresql:// URL), as the pages see it; *folder* is the county's
    watch folder (its 已处理/ keeps the original workbooks), by default the archive file's folder."""

    def __init__(self, target: str | Path, config: Config | None = None, roster: Path | None = None,
                 folder: Path | None = None) -> None:
        self.target: str | Path = str(target) if is_url(target) else Path(target)
        self.config = config or Config()
        self.roster = roster
        root = folder or (self.target.parent if isinstance(self.target, Path) else Path.cwd())
        self.county = County(root, config=self.config, archive=self.target)
        self._local = threading.local()
        self._archives: list[Archive] = []
        self._lock = threading.Lock()
        with Archive(self.target) as a:  # create and migrate once, make the secrets
            self.qr_secret = a.secret(QR_SECRET)
            self.session_secret = a.secret(SESSION_SECRET)
            self.key = a.shown  # names this archive in the caches shared by stores
        self._rollups: dict[tuple, tuple[int, Rollup]] = {}  # (county, as_of, submissions) → (confirmations, …)
        self._forms_used = 0

    @property
    def archive(self) -> Archive:
        """The archive for this thread: SQLite gives each thread its own connection; PostgreSQL's pool is shared."""
        a = getattr(self._local, "archive", None)
        if a is None:
            with self._lock:
                shared = next((x for x in self._archives if not x.is_sqlite), None)
                a = shared or Archive(self.target)
                if shared is None:
                    self._archives.append(a)
            self._local.archive = a
        return a

    def close(self) -> None:
        with self._lock:
            for a in self._archives:
                with contextlib.suppress(Exception):  # closing from another thread at shutdown
                    a.close()
            self._archives.clear()

    # --- QR tokens -------------------------------------------------------------------------

    def refresh_tokens(self) -> int:
        """Add the tokens of submissions archived since the last refresh; returns how many submissions."""
        a = self.archive
        db = a.db
        upto_row = db.execute("SELECT value FROM settings WHERE key = ?", (_TOKENS_UPTO,)).fetchone()
        upto = int(upto_row[0]) if upto_row else 0
        newest = db.execute("SELECT COALESCE(MAX(id), 0) FROM submissions").fetchone()[0]
        if newest <= upto:
            return 0
        with a.transaction() as tx:
            subs = tx.execute("SELECT id, uscc FROM submissions WHERE id > ? AND id <= ?", (upto, newest)).fetchall()
            rows = []
            for s in subs:
                rows.append((qr.enterprise_token(self.qr_secret, s["uscc"]), "e", s["uscc"], "", ""))
                for r in tx.execute("SELECT data FROM records WHERE submission_id = ? AND register = 'post'", (s["id"],)):
                    d = json.loads(r["data"])
                    workshop, post = _text(d.get("workshop")), _text(d.get("post"))
                    rows.append((qr.post_token(self.qr_secret, s["uscc"], workshop, post), "p", s["uscc"], workshop, post))
            tx.executemany("INSERT OR IGNORE INTO qr_tokens (token, kind, uscc, workshop, post) VALUES (?,?,?,?,?)", rows)
            tx.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (_TOKENS_UPTO, str(newest)))
        return len(subs)

    def resolve(self, kind: str, token: str) -> Target | None:
        if not re.fullmatch(r"[a-z2-7]{16}", token or ""):
            return None
        sql = "SELECT token, kind, uscc, workshop, post FROM qr_tokens WHERE token = ? AND kind = ?"
        row = self.archive.db.execute(sql, (token, kind)).fetchone()
        if row is None and self.refresh_tokens():
            row = self.archive.db.execute(sql, (token, kind)).fetchone()
        return Target(*row) if row else None

    def enterprise_token(self, uscc: str) -> str:
        return qr.enterprise_token(self.qr_secret, uscc)

    def post_token(self, uscc: str, workshop: str, post: str) -> str:
        return qr.post_token(self.qr_secret, uscc, _text(workshop), _text(post))

    # --- public pages ----------------------------------------------------------------------

    def _latest(self, uscc: str) -> Any:
        return self.archive.db.execute("SELECT * FROM submissions WHERE uscc = ? ORDER BY received_at DESC, id DESC LIMIT 1",
                                       (uscc,)).fetchone()

    def post_view(self, target: Target) -> PostView | None:
        sub = self._latest(target.uscc)
        if sub is None:
            return None
        posts, employees = _post_data(self.key, sub["id"], self.archive)
        card = next((p for p in posts if _text(p.get("workshop")) == target.workshop and _text(p.get("post")) == target.post),
                    None)
        if card is None:
            return None
        others = [p for p in posts if p is not card]
        staff = [(_text(e.get("name")), re.sub(r"\D", "", str(e.get("mobile") or ""))) for e in employees
                 if _text(e.get("post")) == target.post and _text(e.get("workshop")) in ("", target.workshop)]
        return PostView(target, sub["name"] or "", sub["county"] or "", sub["id"], card, others, sorted(set(staff)))

    def public_view(self, target: Target) -> PublicView | None:
        sub = self._latest(target.uscc)
        if sub is None:
            return None
        a = self.archive
        risks = a.records(sub["id"], "risk")
        graded = [(r, risk_level(_record(r), self.config)) for r in risks]
        from dpsheets.documents.riskmap import build

        risk_map = build([(_text(r.get("location")), lvl) for r, lvl in graded])  # the sketch is not archived
        key = [dict(r, level=lvl) for r, lvl in graded if lvl in ("重大风险", "较大风险")]
        key.sort(key=lambda r: (r["level"] != "重大风险", _text(r.get("location"))))
        ent = a.records(sub["id"], "enterprise")
        e = ent[0] if ent else {}
        contacts = [("火警", "119"), ("急救", "120")]
        if e.get("principal") or e.get("phone"):
            contacts.append((f"主要负责人 {_text(e.get('principal'))}", _text(e.get("phone"))))
        if e.get("safety_officer"):
            contacts.append(("安全管理人员", _text(e.get("safety_officer"))))
        phones = sorted({_text(p.get("emergency_phone")) for p in a.records(sub["id"], "post") if p.get("emergency_phone")})
        contacts += [("企业应急电话", p) for p in phones]
        return PublicView(sub["name"] or "", sub["county"] or "", sub["township"] or "", sub["industry"] or "",
                          sub["received_at"][:10], sub["id"], key, contacts, risk_map)

    def risk_map(self, view: PublicView) -> bytes:
        return _risk_map(self.key, view.submission_id, view.name, view.risk_map)

    def confirm(self, view: PostView, name: str, now: datetime, address: str | None) -> tuple[int, bool]:
        return conf.record(self.archive, uscc=view.target.uscc, name=name, workshop=view.target.workshop,
                           post=view.target.post, now=now, address=address)

    # --- staff ---------------------------------------------------------------------------------

    def user(self, username: str) -> users.User | None:
        return users.get(self.archive, username)

    def audit(self, who: str, action: str, target: str, detail: str, address: str | None, now: datetime) -> None:
        self.archive.audit(who, action, target, detail, address, now=now)

    # --- one-time forms and throttling, shared by every process on the archive ----------------------

    def use_form(self, nonce: str, now: datetime, max_age: float) -> bool:
        """Mark the form token *nonce* used at *now*; False if it was used before (in any process on the archive).
        The primary key of ``used_forms`` decides (insert-or-refuse); now and then the rows older than a form's
        validity (*max_age* seconds) are purged."""
        with self._lock:
            self._forms_used += 1
            purge = self._forms_used % _PURGE_EVERY == 1
        with self.archive.transaction() as tx:
            fresh = insert_ignoring_duplicates(tx, schema.used_forms,
                                               {"token": nonce, "used_at": now.isoformat(timespec="seconds")}, ["token"],
                                               returning=schema.used_forms.c.token)
            if purge:
                tx.execute("DELETE FROM used_forms WHERE used_at < ?", (_window(now, max_age)[0],))
        return fresh is not None


    def login_throttled(self, username: str, address: str, now: datetime, limit: int, window: float) -> bool:
        """Whether *limit* logins failed in the *window* seconds up to *now*, from *address* or for *username*
        (since its last successful login): counted in the audit log, where every attempt is written."""
        since, upto = _window(now, window)
        row = self.archive.db.execute(
            "SELECT COALESCE(SUM(CASE WHEN address = ? THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN target = ? AND id > (SELECT COALESCE(MAX(id), 0) FROM audit WHERE action = ? "
            "AND target = ? AND at > ? AND at <= ?) THEN 1 ELSE 0 END), 0) "
            "FROM audit WHERE action = ? AND at > ? AND at <= ? AND (address = ? OR target = ?)",
            (address, username, LOGIN_OK, username, since, upto, LOGIN_FAILED, since, upto, address, username)).fetchone()
        return int(row[0]) >= limit or int(row[1]) >= limit

    def quiz_throttled(self, uscc: str, name: str, address: str, now: datetime, limits: Limits) -> bool:
        """Whether the worker *name* of *uscc*, or *address*, used up their quiz attempts in the window up to *now*
        (every attempt is audited: confirmed, confirmed again, refused)."""
        since, upto = _window(now, limits.quiz_window)
        who = conf.worker(name)
        marks = ",".join("?" * len(conf.ATTEMPTS))
        row = self.archive.db.execute(
            "SELECT COALESCE(SUM(CASE WHEN address = ? THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN who = ? AND target = ? THEN 1 ELSE 0 END), 0) "
            f"FROM audit WHERE action IN ({marks}) AND at > ? AND at <= ? AND (address = ? OR (who = ? AND target = ?))",
            (address, who, uscc, *conf.ATTEMPTS, since, upto, address, who, uscc)).fetchone()
        return int(row[0]) >= limits.quiz_per_address or int(row[1]) >= limits.quiz_per_worker

    def quiz_refused(self, view: PostView, name: str, reason: str, now: datetime, address: str | None) -> None:
        """Audit an attempt that recorded nothing (unknown name, wrong phone digits, wrong answers)."""
        conf.refused(self.archive, uscc=view.target.uscc, name=name, workshop=view.target.workshop,
                     post=view.target.post, reason=reason, now=now, address=address)

    def _version(self) -> tuple[int, int]:
        db = self.archive.db
        return (db.execute("SELECT COALESCE(MAX(id), 0) FROM submissions").fetchone()[0],
                db.execute("SELECT COALESCE(MAX(id), 0) FROM confirmations").fetchone()[0])

    def rollup(self, county: str | None, as_of: date, *, confirmations: bool = True) -> Rollup:
        """What the staff pages show of the roll-up of *county* (None: every county, a province account) on
        *as_of*: ``County.rollup`` with *lists_only* (the enterprises with their breaches, the hazard lists, the
        non-submitters; the same figures as the summary workbook). Kept until a submission arrives; a confirmation
        changes the enterprises' rows only, so a caller that does not show them (*confirmations* False: the hazard
        and non-submitter lists) is served what was computed before it."""
        submissions, confirmed = self._version()
        key = (county, as_of, submissions)
        hit = self._rollups.get(key)
        if hit is None or (confirmations and hit[0] != confirmed):
            hit = (confirmed, self.county.rollup(as_of, self._roster(), level="县" if county else "省", county=county,
                                                 lists_only=True).in_memory())
            with self._lock:
                if len(self._rollups) > 16:
                    self._rollups.clear()
                self._rollups[key] = hit
        return hit[1]

    def summary(self, county: str | None, as_of: date) -> Rollup:
        """The full roll-up (trend, 报送情况, alerts) of *county* on *as_of*, for the summary workbook and report."""
        return self.county.rollup(as_of, self._roster(), level="县" if county else "省", county=county)

    def _roster(self) -> list[MissingRow] | None:
        if self.roster is None:
            return None
        from dpsheets.county.roster import read_roster

        return read_roster(self.roster)[0]

    def missing(self, county: str | None, as_of: date) -> list[MissingRow] | None:
        """Roster enterprises of *county* without a submission on or before *as_of*; None without a roster."""
        return None if self.roster is None else self.rollup(county, as_of, confirmations=False).missing

    def enterprise_file(self, county: str | None, uscc: str, as_of: date, submission: int | None = None) -> FileView | None:
        a = self.archive
        sql, args = "SELECT * FROM enterprises WHERE uscc = ?", [uscc]
        if county is not None:
            sql += " AND county = ?"
            args.append(county)
        ent = a.db.execute(sql, args).fetchone()
        if ent is None:
            return None
        history = a.history(uscc)
        if not history:
            return None
        shown = next((s for s in history if s.id == submission), history[-1])
        latest = history[-1]
        hazards = []
        for h in a.db.execute("SELECT * FROM hazards WHERE submission_id = ? ORDER BY row", (latest.id,)):
            values = {k: h[k] for k in h.keys()}  # noqa: SIM118 - sqlite3.Row
            for k in ("found_on", "deadline", "completed_on"):  # ISO text on SQLite, dates on PostgreSQL
                values[k] = _day(values[k])
            state = hazard_state(values, as_of, self.config.due_soon_days)
            values["state"] = _state_text(state, values["status"])
            values["overdue"] = state.overdue
            hazards.append(values)
        rows = {r.uscc: r for r in self.rollup(county, as_of).enterprises}
        items = conf.confirmations(a, uscc)
        employees = a.db.execute("SELECT employees FROM submissions WHERE id = ?", (latest.id,)).fetchone()[0]
        row = rows.get(uscc)
        return FileView(uscc, ent["name"], ent["county"] or "", ent["township"] or "", ent["industry"] or "", history, shown,
                        a.problems(shown.id), hazards, items[::-1], employees, row.quiz_people_12m if row else 0, row)

    def stored_original(self, uscc: str) -> Path | None:
        """The latest original workbook of *uscc* kept by the watcher (已处理/), if it is there."""
        row = self.archive.db.execute("SELECT stored_name FROM submissions WHERE uscc = ? AND stored_name IS NOT NULL "
                                      "ORDER BY received_at DESC, id DESC LIMIT 1", (uscc,)).fetchone()
        if row is None:
            return None
        path = self.county.layout.processed / row[0]
        return path if path.is_file() else None


def _window(now: datetime, seconds: float) -> tuple[str, str]:
    """The audit times (ISO text, as written) of the window of *seconds* that ends at *now*."""
    return (now - timedelta(seconds=seconds)).isoformat(timespec="seconds"), now.isoformat(timespec="seconds")


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _state_text(state: Any, status: str | None) -> str:
    if state.closed:
        return "已销号（逾期销号）" if state.closed_late else "已销号"
    if state.overdue:
        return f"逾期 {state.days} 天"
    if state.due_soon:
        return f"临期（剩 {state.days} 天）"
    return status or "未填写状态"


def _post_data(archive_key: str, submission_id: int, archive: Archive) -> tuple[list[dict], list[dict]]:
    """Posts and employees of a submission (submissions never change, so they are cached by id)."""
    key = (archive_key, submission_id)
    hit = _POSTS.get(key)
    if hit is None:
        hit = (archive.records(submission_id, "post"), archive.records(submission_id, "employee"))
        if len(_POSTS) > 512:
            _POSTS.clear()
        _POSTS[key] = hit
    return hit


_POSTS: dict[tuple[str, int], tuple[list[dict], list[dict]]] = {}


_MAPS: dict[tuple[str, int], bytes] = {}
_MAP_LOCK = threading.Lock()


def _risk_map(archive_key: str, submission_id: int, name: str, risk_map: Any) -> bytes:
    """The four-colour map of a submission (drawn once: matplotlib is slow and not thread-safe)."""
    from dpsheets.documents.riskmap import draw

    key = (archive_key, submission_id)
    with _MAP_LOCK:
        if key not in _MAPS:
            if len(_MAPS) > 64:
                _MAPS.clear()
            _MAPS[key] = draw(risk_map, f"{name} 风险四色分布图")
        return _MAPS[key]
