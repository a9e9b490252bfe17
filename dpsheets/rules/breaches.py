"""Breaches of the rules for "running effectively" (差异化执法), as data.

Each rule of the county roll-up is declared once in :data:`BREACHES`: a stable code, a short
name, the rule as the 规则说明 sheet states it (filled from the :class:`~dpsheets.config.RollupRules`
settings it uses) and the message for one enterprise (filled from the breach's parameters).
A :class:`Breach` is a code and its parameters; its Chinese message is rendered from the
catalogue, never parsed. The parameters include the settings that were applied, so a city
roll-up of county summaries renders every county's breaches as that county decided them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from dpsheets.config import RollupRules


@dataclass(frozen=True)
class BreachType:
    code: str
    title: str  # the rule's short name (规则说明: 规则)
    rule: str  # the rule in Chinese, filled from RollupRules settings
    message: str  # one enterprise's breach, filled from the breach's parameters
    switch: str | None = None  # a RollupRules flag that turns the rule off


def _types(*rows: BreachType) -> dict[str, BreachType]:
    return {t.code: t for t in rows}


BREACHES: dict[str, BreachType] = _types(
    BreachType("rule.not-submitted", "报送", "名单上的企业没有报送台账。", "未报送台账"),
    BreachType("rule.stale", "报送", "最近一次报送距统计日超过 {stale_days} 天。",
               "最近一次报送在 {age} 天前（{last_submission}），超过 {stale_days} 天"),
    BreachType("rule.overdue", "逾期隐患", "逾期未整改的隐患超过 {max_overdue} 项。",
               "有 {count} 项逾期未整改隐患（允许 {max_overdue} 项）"),
    BreachType("rule.major-without-plan", "重大隐患", "有未销号的重大事故隐患，却没有填写治理方案。",
               "有 {count} 项重大隐患未制定治理方案", switch="major_without_plan"),
    BreachType("rule.no-training", "教育培训", "近 {months_without_training} 个月没有教育培训记录。",
               "近 {months_without_training} 个月无教育培训记录"),
    BreachType("rule.no-drill", "应急演练", "近 {months_without_drill} 个月没有应急演练记录。",
               "近 {months_without_drill} 个月无应急演练记录"),
    BreachType("rule.empty-registers", "清单", "风险管控清单、岗位安全责任清单或岗位人员名单为空，体系未建立。",
               "{registers}为空", switch="empty_registers"),
)


def _shown(value: Any) -> str:
    """A parameter as the message shows it: register keys by their sheet names, lists joined by 、."""
    if isinstance(value, (list, tuple)):
        from dpsheets.workbook.registers import BY_KEY

        return "、".join(BY_KEY[v].sheet if v in BY_KEY else str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Breach:
    """One rule broken by one enterprise: a catalogued code and its parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in BREACHES:
            raise KeyError(f"undeclared rule breach code {self.code!r}")

    @property
    def title(self) -> str:
        return BREACHES[self.code].title

    @property
    def message(self) -> str:
        return BREACHES[self.code].message.format(**{k: _shown(v) for k, v in self.params.items()})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "message": self.message}


def breach(code: str, rules: RollupRules | None = None, **params: Any) -> Breach:
    """A breach of *code*, its parameters completed with the *rules* settings its messages use."""
    return Breach(code, {**_used(code, rules), **params})


@lru_cache(maxsize=64)
def _used(code: str, rules: RollupRules | None) -> dict[str, Any]:
    """The *rules* settings that *code*'s rule or message names (copied by the caller, never changed)."""
    settings = asdict(rules) if rules is not None else {}
    kind = BREACHES[code]
    return {k: settings[k] for k in settings if "{" + k + "}" in kind.message or "{" + k + "}" in kind.rule}


def applies(code: str, rules: RollupRules) -> bool:
    switch = BREACHES[code].switch
    return switch is None or bool(getattr(rules, switch))


def rule_texts(rules: RollupRules) -> list[tuple[str, str, str]]:
    """Every rule that *rules* applies: (code, short name, the rule in Chinese), for 规则说明 and the report."""
    settings = asdict(rules)
    return [(t.code, t.title, t.rule.format(**settings)) for t in BREACHES.values() if applies(t.code, rules)]
