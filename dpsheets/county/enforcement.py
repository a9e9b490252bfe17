"""差异化执法: which rules an enterprise breaks, and how severe that is (分值).

:func:`evaluate` decides every rule of :data:`~dpsheets.rules.breaches.BREACHES` for one roll-up
row from its indicators (computed in SQL, :mod:`dpsheets.county.rollup`) and the ``[rules]``
settings; each breach carries its parameters and its points. :func:`ranked` orders the
enterprises to inspect first: by 分值, then by the number of rules broken, the overdue hazards,
county and name, so the order is the same from archives and from county summaries.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from dpsheets.config import RollupRules
from dpsheets.rules.breaches import Breach, applies, breach, score

if TYPE_CHECKING:
    from dpsheets.county.rollup import EnterpriseRow, MissingRow


def evaluate(row: EnterpriseRow, as_of: date, rules: RollupRules) -> list[Breach]:
    """The rules of 差异化执法 that *row* breaks on *as_of*, as catalogued breaches with their points."""
    broken = []
    if row.last_submission:
        age = (as_of - date.fromisoformat(row.last_submission)).days
        if age > rules.stale_days:
            broken.append(breach("rule.stale", rules, age=age, last_submission=row.last_submission))
    if applies("rule.major-without-plan", rules) and row.major_without_plan:
        broken.append(breach("rule.major-without-plan", rules, count=row.major_without_plan))
    if applies("rule.major-unreported", rules) and row.major_unreported:
        broken.append(breach("rule.major-unreported", rules, count=row.major_unreported))
    if row.hazards_overdue > rules.max_overdue:
        broken.append(breach("rule.overdue", rules, count=row.hazards_overdue, majors=row.major_overdue,
                             days=row.overdue_days, major_days=row.major_overdue_days, longest=row.overdue_longest))
    if applies("rule.data-errors", rules) and row.data_errors > rules.max_data_errors:
        broken.append(breach("rule.data-errors", rules, count=row.data_errors))
    if applies("rule.empty-registers", rules):
        empty = [key for key, n in (("risk", row.risks_major + row.risks_significant + row.risks_general + row.risks_low),
                                    ("post", row.posts), ("employee", row.employees)) if n == 0]
        if empty:
            broken.append(breach("rule.empty-registers", rules, registers=empty))
    if applies("rule.zero-hazards", rules) and (row.days_since_hazard is None
                                                or row.days_since_hazard >= rules.zero_hazard_days):
        last = (date.fromordinal(as_of.toordinal() - row.days_since_hazard).isoformat()
                if row.days_since_hazard is not None else "无")
        broken.append(breach("rule.zero-hazards", rules, last_found=last))
    if row.months_since_training is None or row.months_since_training >= rules.months_without_training:
        broken.append(breach("rule.no-training", rules, months_since=row.months_since_training))
    if row.months_since_drill is None or row.months_since_drill >= rules.months_without_drill:
        broken.append(breach("rule.no-drill", rules, months_since=row.months_since_drill))
    if applies("rule.unconfirmed-posts", rules) and row.posts_unconfirmed > rules.max_unconfirmed_posts:
        broken.append(breach("rule.unconfirmed-posts", rules, count=row.posts_unconfirmed, posts=row.posts))
    if applies("rule.low-confirmation", rules) and row.employees:
        confirmed = row.employees - row.employees_unconfirmed
        if confirmed < rules.min_confirmed_share * row.employees:
            broken.append(breach("rule.low-confirmation", rules, confirmed=confirmed, employees=row.employees,
                                 share=f"{confirmed / row.employees:.0%}"))
    return broken


def not_submitted(row: MissingRow, rules: RollupRules) -> MissingRow:
    """A roster enterprise without a submission, with its breach."""
    return replace(row, breaches=[breach("rule.not-submitted", rules)])


def ranked(rows: list[EnterpriseRow | MissingRow]) -> list[EnterpriseRow | MissingRow]:
    """The enterprises to inspect first (those with a breach), most severe first."""
    return sorted((r for r in rows if r.breaches),
                  key=lambda r: (-score(r.breaches), -len(r.breaches), -getattr(r, "hazards_overdue", 0), r.county,
                                 r.name, r.uscc))
