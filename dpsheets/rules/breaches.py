"""Breaches of the rules for "running effectively" (差异化执法), as data.

Each rule of the county roll-up is declared once in :data:`BREACHES`: a stable code, a short
name, the rule as the 规则说明 sheet states it (filled from the :class:`~dpsheets.config.RollupRules`
settings it uses), the message for one enterprise (filled from the breach's parameters) and how
it is scored (the weights of ``[rules]``). A :class:`Breach` is a code, its parameters and its
points; its Chinese message is rendered from the catalogue, never parsed. An enterprise's 分值
is the sum of its breaches' points, and 重点检查企业 is ordered by it. The parameters include the
settings that were applied, and the points are kept with them, so a city roll-up of county
summaries renders and ranks every county's breaches as that county decided them.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from dpsheets.config import RollupRules

Points = Callable[[Mapping[str, Any], RollupRules], float]


@dataclass(frozen=True)
class BreachType:
    code: str
    title: str  # the rule's short name (规则说明: 规则)
    rule: str  # the rule in Chinese, filled from RollupRules settings
    message: str  # one enterprise's breach, filled from the breach's parameters
    switch: str | None = None  # a RollupRules flag that turns the rule off
    score: str = ""  # how the breach is scored (规则说明: 计分), filled from RollupRules settings
    points: Points = field(default=lambda params, rules: 0.0, compare=False)  # its points for the 分值


def _types(*rows: BreachType) -> dict[str, BreachType]:
    return {t.code: t for t in rows}


def _overdue_points(p: Mapping[str, Any], r: RollupRules) -> float:
    general = r.weight_overdue_hazard * (p["count"] - p["majors"]) + r.weight_overdue_day * (p["days"] - p["major_days"])
    major = r.weight_overdue_hazard * p["majors"] + r.weight_overdue_day * p["major_days"]
    return min(r.max_overdue_points, general + r.major_overdue_factor * major)


BREACHES: dict[str, BreachType] = _types(
    BreachType("rule.not-submitted", "报送", "名单上的企业没有报送台账。", "未报送台账",
               score="{weight_not_submitted:g} 分", points=lambda p, r: r.weight_not_submitted),
    BreachType("rule.stale", "报送", "最近一次报送距统计日超过 {stale_days} 天。",
               "最近一次报送在 {age} 天前（{last_submission}），超过 {stale_days} 天",
               score="{weight_stale:g} 分", points=lambda p, r: r.weight_stale),
    BreachType("rule.major-without-plan", "重大隐患", "有未销号的重大事故隐患，却没有填写治理方案。",
               "有 {count} 项重大隐患未制定治理方案", switch="major_without_plan",
               score="每项 {weight_major_without_plan:g} 分", points=lambda p, r: r.weight_major_without_plan * p["count"]),
    BreachType("rule.major-unreported", "重大隐患", "有未销号的重大事故隐患，已有治理方案却没有上报日期"
               "（未向负有安全监管职责的部门报告）。", "有 {count} 项重大隐患有治理方案但未填写上报日期",
               switch="major_unreported", score="每项 {weight_major_unreported:g} 分",
               points=lambda p, r: r.weight_major_unreported * p["count"]),
    BreachType("rule.overdue", "逾期隐患", "逾期未整改的隐患超过 {max_overdue} 项。",
               "有 {count} 项逾期未整改隐患（允许 {max_overdue} 项），其中重大隐患 {majors} 项，最长逾期 {longest} 天",
               score="每项 {weight_overdue_hazard:g} 分，另按逾期天数每天 {weight_overdue_day:g} 分；重大隐患乘以 "
                     "{major_overdue_factor:g}；合计最多 {max_overdue_points:g} 分", points=_overdue_points),
    BreachType("rule.data-errors", "数据错误", "报送的台账有超过 {max_data_errors} 处数据错误，隐患和风险的真实状态无法判断。",
               "台账有 {count} 处数据错误（允许 {max_data_errors} 处）", switch="data_errors",
               score="{weight_data_errors:g} 分", points=lambda p, r: r.weight_data_errors),
    BreachType("rule.empty-registers", "清单", "风险管控清单、岗位安全责任清单或岗位人员名单为空，体系未建立。",
               "{registers}为空", switch="empty_registers",
               score="{weight_empty_registers:g} 分", points=lambda p, r: r.weight_empty_registers),
    BreachType("rule.zero-hazards", "零隐患", "近 {zero_hazard_days} 天隐患排查治理清单没有新发现的隐患"
               "（长期“零隐患”往往是没有开展自查）。", "近 {zero_hazard_days} 天没有发现隐患（最近发现：{last_found}）",
               switch="zero_hazards", score="{weight_zero_hazards:g} 分", points=lambda p, r: r.weight_zero_hazards),
    BreachType("rule.no-training", "教育培训", "近 {months_without_training} 个月没有教育培训记录。",
               "近 {months_without_training} 个月无教育培训记录",
               score="{weight_no_training:g} 分", points=lambda p, r: r.weight_no_training),
    BreachType("rule.no-drill", "应急演练", "近 {months_without_drill} 个月没有应急演练记录。",
               "近 {months_without_drill} 个月无应急演练记录",
               score="{weight_no_drill:g} 分", points=lambda p, r: r.weight_no_drill),
    BreachType("rule.unconfirmed-posts", "一题", "近 12 个月没有任何员工答题确认的岗位超过 {max_unconfirmed_posts} 个"
               "（台账答题确认记录和手机确认，按岗位名称）。", "{count} 个岗位近 12 个月无人答题确认（共 {posts} 个岗位）",
               switch="unconfirmed_posts", score="{weight_unconfirmed_posts:g} 分",
               points=lambda p, r: r.weight_unconfirmed_posts),
    BreachType("rule.low-confirmation", "一题", "近 12 个月答题确认过本岗位问题的员工不足 {min_confirmed_share:.0%}"
               "（按姓名和岗位）。", "近 12 个月只有 {confirmed}/{employees} 名员工答题确认（{share}，要求 {min_confirmed_share:.0%}）",
               switch="low_confirmation", score="{weight_low_confirmation:g} 分",
               points=lambda p, r: r.weight_low_confirmation),
)


def _shown(value: Any) -> Any:
    """A parameter as the message shows it: register keys by their sheet names, lists joined by 、."""
    if isinstance(value, (list, tuple)):
        from dpsheets.workbook.registers import BY_KEY

        return "、".join(BY_KEY[v].sheet if v in BY_KEY else str(v) for v in value)
    return value


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Breach:
    """One rule broken by one enterprise: a catalogued code, its parameters and its points (分值)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    points: float = 0.0

    def __post_init__(self) -> None:
        if self.code not in BREACHES:
            raise KeyError(f"undeclared rule breach code {self.code!r}")

    @property
    def title(self) -> str:
        return BREACHES[self.code].title

    @property
    def message(self) -> str:
        return BREACHES[self.code].message.format(**{k: _shown(v) for k, v in self.params.items()})

    @property
    def reason(self) -> str:
        """The message with its code and points, as 重点检查企业 shows it."""
        return f"{self.message}（{self.code}，{self.points:g} 分）"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "message": self.message, "points": self.points}


def breach(code: str, rules: RollupRules | None = None, **params: Any) -> Breach:
    """A breach of *code*, its parameters completed with the *rules* settings its messages use, and its
    points under *rules* (rounded to 0.01, so that sums are the same wherever they are made)."""
    full = {**_used(code, rules), **params}
    points = round(BREACHES[code].points(full, rules), 2) if rules is not None else 0.0
    return Breach(code, full, points)


@lru_cache(maxsize=256)
def _used(code: str, rules: RollupRules | None) -> dict[str, Any]:
    """The *rules* settings that *code*'s rule or message names (copied by the caller, never changed)."""
    settings = asdict(rules) if rules is not None else {}
    kind = BREACHES[code]
    named = _names(kind.message) | _names(kind.rule)
    return {k: settings[k] for k in settings if k in named}


def score(breaches: Iterable[Breach]) -> float:
    """The 分值 of an enterprise: the sum of its breaches' points."""
    return round(sum(b.points for b in breaches), 2)


def applies(code: str, rules: RollupRules) -> bool:
    switch = BREACHES[code].switch
    return switch is None or bool(getattr(rules, switch))


def rule_texts(rules: RollupRules) -> list[tuple[str, str, str]]:
    """Every rule that *rules* applies: (code, short name, the rule in Chinese), for 规则说明 and the report."""
    settings = asdict(rules)
    return [(t.code, t.title, t.rule.format(**settings)) for t in BREACHES.values() if applies(t.code, rules)]


def score_texts(rules: RollupRules) -> dict[str, str]:
    """How each rule that *rules* applies is scored (code → Chinese), for 规则说明."""
    settings = asdict(rules)
    return {t.code: t.score.format(**settings) for t in BREACHES.values() if applies(t.code, rules)}
