"""Configuration: risk thresholds, deadlines, limits, QR base address, roll-up rules.

Defaults follow DOMAIN.md §4–§8. A ``dpsheets.toml`` overrides any of them::

    due_soon_days = 5
    qr_base_url = "https://example.gov.cn/qy/"

    [lec]            # D = L×E×C; a level applies when D is at least its lower bound
    "重大风险" = 320.0001
    [ls]
    "重大风险" = 20
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dpsheets.errors import DpsheetsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Lower bounds (inclusive) of each level, from the highest level down; below the last, 低风险.
# LEC: D > 320 重大, 160 < D ≤ 320 较大, 70 ≤ D ≤ 160 一般, D < 70 低. Scores are products of the
# allowed factor values, so "> 320" equals ">= 320.0001" for every score that can occur.
DEFAULT_LEC = {"重大风险": 320.0001, "较大风险": 160.0001, "一般风险": 70.0}
DEFAULT_LS = {"重大风险": 20.0, "较大风险": 9.0, "一般风险": 4.0}

LEC_L = (0.1, 0.2, 0.5, 1, 3, 6, 10)
LEC_E = (0.5, 1, 2, 3, 6, 10)
LEC_C = (1, 3, 7, 15, 40, 100)
LS_VALUES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class RollupRules:
    """When an enterprise's system is *not running effectively* (差异化执法)."""

    stale_days: int = 120  # last submission older than this
    max_overdue: int = 0  # more overdue hazards than this
    major_without_plan: bool = True  # an open 重大隐患 without 治理方案
    months_without_training: int = 12
    months_without_drill: int = 12
    empty_registers: bool = True


@dataclass(frozen=True)
class Config:
    lec: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LEC))
    ls: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LS))
    due_soon_days: int = 3
    max_rows: int = 20000  # rows per sheet before a workbook is refused as too large
    max_file_mb: int = 50
    qr_base_url: str = ""
    templates_dir: str = ""  # a county's edited Word templates; default: document_templates/
    rules: RollupRules = field(default_factory=RollupRules)


def load_config(path: str | Path | None = None) -> Config:
    """Defaults, overridden by the TOML file at *path* (or ./dpsheets.toml when present)."""
    if path is None:
        default = Path("dpsheets.toml")
        if not default.is_file():
            return Config()
        path = default
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DpsheetsError("config.missing", "找不到配置文件。", path=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DpsheetsError("config.invalid", f"配置文件格式有误：{exc}", path=str(path)) from exc
    return config_from_dict(data, source=str(path))


def config_from_dict(data: dict[str, Any], source: str = "配置") -> Config:
    base = Config()
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DpsheetsError("config.unknown-key", f"配置项 {'、'.join(unknown)} 无法识别。可用的配置项：{'、'.join(sorted(known))}。",
                            path=source)
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("lec", "ls"):
            merged = dict(getattr(base, key))
            wrong = sorted(set(value) - set(merged))
            if wrong:
                raise DpsheetsError("config.unknown-level", f"[{key}] 中的 {'、'.join(wrong)} 不是风险等级。"
                                    f"可设置下限的等级：{'、'.join(merged)}（低于“一般风险”下限即为低风险）。", path=source)
            merged.update({str(k): float(v) for k, v in value.items()})
            changes[key] = merged
        elif key == "rules":
            changes[key] = replace(base.rules, **value)
        else:
            changes[key] = value
    try:
        return replace(base, **changes)
    except TypeError as exc:
        raise DpsheetsError("config.invalid", f"配置项有误：{exc}", path=source) from exc
