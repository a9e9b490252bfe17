"""Risk grading: LEC (D = L×E×C) and LS (R = L×S) scores and the level they give.

Thresholds come from :class:`~dpsheets.config.Config` (DOMAIN §4 defaults).
"""

from __future__ import annotations

from dataclasses import dataclass

from dpsheets.config import LEC_C, LEC_E, LEC_L, LS_VALUES, Config
from dpsheets.workbook.model import Record

ALLOWED: dict[str, dict[str, tuple[float, ...]]] = {
    "LEC": {"l": LEC_L, "e": LEC_E, "c": LEC_C},
    "LS": {"l": LS_VALUES, "s": LS_VALUES},
}


@dataclass(frozen=True)
class Grade:
    """A risk's score by its method (LEC or LS) and the level it gives."""

    method: str
    score: float
    level: str


def level_for(method: str, score: float, config: Config) -> str:
    bounds = config.lec if method == "LEC" else config.ls
    for level, lower in sorted(bounds.items(), key=lambda kv: -kv[1]):
        if score >= lower:
            return level
    return "低风险"


def method_of(record: Record) -> str | None:
    """The evaluation method stated, or implied by which factors are filled."""
    method = record["method"]
    if method in ALLOWED or method == "直接判定":
        return method
    if record["e"] is not None or record["c"] is not None:
        return "LEC"
    if record["s"] is not None:
        return "LS"
    return None


def grade(record: Record, config: Config) -> Grade | None:
    """The computed grade of a risk row, or None when its factors are incomplete or invalid."""
    method = method_of(record)
    if method not in ALLOWED:
        return None
    factors = ALLOWED[method]
    score = 1.0
    for key, allowed in factors.items():
        value = record[key]
        if value is None or value not in allowed:
            return None
        score *= value
    score = round(score, 4)
    return Grade(method, score, level_for(method, score, config))


def format_score(score: float) -> str:
    return str(int(score)) if float(score).is_integer() else f"{score:g}"


def risk_level(record: Record, config: Config) -> str | None:
    """The level to use for a risk: the computed one when factors are complete, else the stated one."""
    g = grade(record, config)
    return g.level if g else record["level"]
