"""The Word report of a roll-up (docxtpl): headline figures, charts, overdue and major hazards, enforcement list."""

from __future__ import annotations

import io
import math
from pathlib import Path

import jinja2
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from dpsheets.config import OfficialForm
from dpsheets.county.rollup import Rollup
from dpsheets.county.summary_book import LEVEL_COLOURS, messages, on_time_period
from dpsheets.documents.context import BLANK, text
from dpsheets.documents.fonts import font_properties
from dpsheets.documents.template_build import REPORT_TEMPLATES, TEMPLATES_DIR
from dpsheets.fsutil import atomic_path
from dpsheets.rules.breaches import rule_texts, score_texts

TABLE_LIMIT = 200  # rows per table in the report; the workbook has them all


def _template() -> Path:
    return TEMPLATES_DIR / REPORT_TEMPLATES["county_report"][0]  # shipped in the package


def _chart(draw, image_format: str = "png") -> bytes:  # noqa: ANN001
    """A chart as PNG; every text in Chinese through the font file found by :mod:`dpsheets.documents.fonts`."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.0), dpi=130)
    draw(ax)
    font = font_properties(9)
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontproperties(font)
    ax.title.set_fontproperties(font_properties(12))
    fig.tight_layout()
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG keeps its texts as text (to inspect the labels)
        fig.savefig(buffer, format=image_format)
    plt.close(fig)
    return buffer.getvalue()


def _charts(rollup: Rollup, image_format: str = "png") -> dict[str, bytes]:
    s = rollup.totals().sums

    def risks(ax):  # noqa: ANN001, ANN202
        ax.bar([lbl for lbl, _, _ in LEVEL_COLOURS], [s[k] for _, k, _ in LEVEL_COLOURS],
               color=[c for _, _, c in LEVEL_COLOURS], edgecolor="#404040")
        ax.set_title("风险点按等级")

    def hazards(ax):  # noqa: ANN001, ANN202
        values = [s["hazards_overdue"], s["hazards_open"] - s["hazards_overdue"], s["closed_on_time"], s["closed_late"]]
        ax.barh(["逾期未销号", "未逾期未销号", "按期销号", "逾期销号"], values, color=["#FF0000", "#FFC000", "#70AD47", "#A5A5A5"])
        ax.set_title("隐患治理状态")

    def trend(ax):  # noqa: ANN001, ANN202
        months = list(rollup.trend)
        values = [math.nan if rollup.trend[m] is None else rollup.trend[m] for m in months]  # no data: a gap
        ax.plot(months, values, marker="o", color="#C00000")
        ax.set_title("月末逾期隐患（空缺为当月无报送数据）")
        ax.tick_params(axis="x", rotation=45, labelsize=7)

    return {"risk_chart": _chart(risks, image_format), "hazard_chart": _chart(hazards, image_format),
            "trend_chart": _chart(trend, image_format)}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def official_context(rollup: Rollup, form: OfficialForm) -> dict[str, str]:
    """文号 and 落款 of the report: dpsheets.toml's [official], else the county's 应急管理局 and blanks to fill in."""
    counties = rollup.summary().counties
    issuer = form.county_issuer or (f"{next(iter(counties))}应急管理局" if len(counties) == 1 and rollup.level == "县"
                                    else f"{BLANK}应急管理局")
    return {"number": form.report_number or f"〔{rollup.as_of.year}〕　号", "issuer": issuer,
            "contact": form.county_contact or BLANK, "phone": form.county_phone or BLANK}


def context(rollup: Rollup, title: str, form: OfficialForm | None = None) -> dict:
    t = rollup.totals()
    s = t.sums
    enforcement = rollup.enforcement()
    return {
        "title": title, "as_of": text(rollup.as_of), "level": rollup.level,
        "official": official_context(rollup, form or OfficialForm()),
        "totals": {"expected": t.expected, "submitted": t.submitted, "submission_rate": _pct(t.submission_rate),
                   "on_time": t.on_time, "on_time_period": on_time_period(rollup), "not_effective": t.not_effective, "closure_rate": _pct(t.closure_rate),
                   **{k: s[k] for k in s}},
        "groups": [{"name": g.key, "expected": g.expected, "submitted": g.submitted, "rate": _pct(g.submission_rate),
                    "overdue": g.sums["hazards_overdue"], "major_open": g.sums["major_open"],
                    "not_effective": g.not_effective, "closure": _pct(g.closure_rate)} for g in rollup.groups("township")],
        "overdue": [dict(h, days=h["days_overdue"]) for h in rollup.overdue[:TABLE_LIMIT]],
        "overdue_more": max(len(rollup.overdue) - TABLE_LIMIT, 0),
        "majors": rollup.majors[:TABLE_LIMIT],
        "enforcement": [{"no": i, "name": r.name, "township": r.township, "industry": r.industry,
                         "problems": f"{r.score:g} 分：{messages(r.breaches)}"}
                        for i, r in enumerate(enforcement[:TABLE_LIMIT], start=1)],
        "enforcement_more": max(len(enforcement) - TABLE_LIMIT, 0),
        "rules": [{"name": title, "text": f"{text}计分：{score_texts(rs.rules)[code]}。" + (f"（适用于{rs.scope}）" if rs.scope else "")}
                  for rs in rollup.applied_rules() for code, title, text in rule_texts(rs.rules)],
        "missing": len(rollup.missing),
    }


def write_report(rollup: Rollup, path: Path, title: str, official: OfficialForm | None = None) -> Path:
    tpl = DocxTemplate(str(_template()))
    ctx = context(rollup, title, official)
    for key, png in _charts(rollup).items():
        ctx[key] = InlineImage(tpl, io.BytesIO(png), width=Mm(150))
    tpl.render(ctx, jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined), autoescape=True)
    with atomic_path(path) as tmp:
        tpl.save(tmp)
    return path
