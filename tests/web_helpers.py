"""Shared by the web tests: an archive with enterprises in two counties, staff users, and
reading pages the way a worker reads them (the right option is the one the card shows)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from builders import AS_OF

from dpsheets.county import users
from dpsheets.county.archive import Archive
from dpsheets.pipeline import check
from dpsheets.workbook.samples import Plant, plant, valid_uscc
from dpsheets.workbook.template import write_workbook

PASSWORD = "correct horse battery"
OTHER_USCC = valid_uscc("91411102MA9KXD3R0")
HOSTILE_NAME = "郾城区<script>alert(1)</script>五金厂"
NOW = datetime.combine(AS_OF, datetime.min.time()).replace(hour=10)
QUIZ_KEYS = ("duties", "hazards", "triggers", "controls", "emergency")


@dataclass
class Site:
    archive: Path | str  # an SQLite file or a PostgreSQL URL
    demo: Plant
    other: Plant
    folder: Path  # where the workbooks were written


def submit(archive: Archive, folder: Path, p: Plant, received: datetime, tag: str) -> int:
    path = write_workbook(folder / f"{tag}.xlsx", p.enterprise, p.rows)
    data, report = check(path, received.date())
    return archive.add_submission(data, report, file_name=path.name, sha256=tag, received_at=received)


def build_site(folder: Path, target: Path | str | None = None) -> Site:
    """Two enterprises in two counties and three staff users, in the archive at *target* (default: an SQLite
    file in *folder*)."""
    demo = plant(AS_OF, posts=4, employees=10)
    other = plant(AS_OF, seed=3, posts=3, employees=6, uscc=OTHER_USCC, name=HOSTILE_NAME, county="郾城区",
                  township="城关镇", industry="建材")
    path = target or folder / "档案.sqlite"
    with Archive(path) as a:
        submit(a, folder, demo, NOW - timedelta(days=1), "demo")
        submit(a, folder, other, NOW - timedelta(days=2), "other")
        users.add(a, "wuyang", PASSWORD, "舞阳县", now=NOW)
        users.add(a, "yancheng", PASSWORD, "郾城区", now=NOW)
        users.add(a, "province", PASSWORD, None, now=NOW)
    return Site(path, demo, other, folder)


def csrf(page: str) -> str:
    found = re.findall(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has a form token"
    return found[-1]


def card_texts(page: str) -> dict[str, str]:
    return {k: html.unescape(v).strip() for k, v in re.findall(r'<dd id="card-(\w+)"[^>]*>(.*?)</dd>', page, re.S)}


def options(page: str) -> dict[str, list[tuple[str, str]]]:
    """question key → [(value, option text)] as shown."""
    out: dict[str, list[tuple[str, str]]] = {}
    for key, value, text in re.findall(r'<input type="radio" name="q_(\w+)" value="(\d+)"[^>]*>(.*?)</label>', page, re.S):
        out.setdefault(key, []).append((value, html.unescape(text).strip()))
    return out


def right_answers(page: str) -> dict[str, str]:
    """What a worker who reads the card picks: for each question the option equal to the card's text."""
    card = card_texts(page)
    return {f"q_{k}": next(v for v, t in opts if t == card[k]) for k, opts in options(page).items()}


def wrong_answers(page: str, wrong_keys: tuple[str, ...]) -> dict[str, str]:
    answers = right_answers(page)
    card = card_texts(page)
    for k in wrong_keys:
        answers[f"q_{k}"] = next(v for v, t in options(page)[k] if t != card[k])
    return answers


def names(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<option value="([^"]+)"', page)]
