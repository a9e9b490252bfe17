"""一图: the four-colour risk distribution map, drawn from the risk register.

Each location (所在位置) is a zone coloured by the highest level of the risks there, with
its name (or a number when no Chinese font is installed) and the count per level; a
legend explains the colours. The document lists the zones by number as well, so the map
stays readable on a machine without Chinese fonts.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

from dpsheets.workbook.registers import RISK_COLOURS, RISK_LEVELS

LEVEL_RANK = {level: i for i, level in enumerate(RISK_LEVELS)}  # 0 = 重大
UNRATED = "未评定"
UNRATED_COLOUR = "BFBFBF"
SHORT = {"重大风险": "重大", "较大风险": "较大", "一般风险": "一般", "低风险": "低", UNRATED: "未评定"}


@dataclass(frozen=True)
class Zone:
    number: int
    location: str
    level: str  # highest level at this location
    counts: dict[str, int]

    @property
    def colour(self) -> str:
        return RISK_COLOURS.get(self.level, UNRATED_COLOUR)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def zones(risks: list[tuple[str, str | None]]) -> list[Zone]:
    """Zones from (location, level) pairs, highest risk first, then by name."""
    by_location: dict[str, dict[str, int]] = {}
    for location, level in risks:
        counts = by_location.setdefault(location or "未填写位置", {})
        key = level if level in LEVEL_RANK else UNRATED
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(by_location.items(), key=lambda kv: (min(LEVEL_RANK.get(k, 9) for k in kv[1]), kv[0]))
    return [Zone(i + 1, loc, min(counts, key=lambda k: LEVEL_RANK.get(k, 9)), counts)
            for i, (loc, counts) in enumerate(ordered)]


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of an installed font that has Chinese glyphs, or None."""
    from matplotlib import font_manager

    preferred = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei",
                 "PingFang SC", "WenQuanYi Zen Hei", "Noto Serif CJK SC", "SimSun")
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in preferred if n in names), None)


def draw(zone_list: list[Zone], title: str) -> bytes:
    """The map as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    font = cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    n = max(len(zone_list), 1)
    cols = math.ceil(math.sqrt(n * 1.5))
    rows = math.ceil(n / cols)
    fig, ax = plt.subplots(figsize=(10, 1.4 + 1.6 * rows), dpi=120)
    for i, zone in enumerate(zone_list):
        r, c = divmod(i, cols)
        x, y = c, rows - 1 - r
        ax.add_patch(Rectangle((x + 0.04, y + 0.04), 0.92, 0.92, facecolor=f"#{zone.colour}", edgecolor="#404040", linewidth=1.2))
        dark = zone.level in ("重大风险", "低风险")
        label = f"{zone.number}. {zone.location}" if font else f"{zone.number}"
        detail = "  ".join(f"{SHORT.get(k, k)}{v}处" for k, v in zone.counts.items()) if font else f"n={zone.total}"
        ax.text(x + 0.5, y + 0.58, label, ha="center", va="center", fontsize=11, weight="bold",
                color="white" if dark else "black", wrap=True)
        ax.text(x + 0.5, y + 0.3, detail, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xlim(0, cols)
    ax.set_ylim(0, rows)
    ax.set_aspect("equal")
    ax.axis("off")
    legend_labels = RISK_LEVELS if font else ("red (major)", "orange (significant)", "yellow (general)", "blue (low)")
    ax.legend(handles=[Patch(facecolor=f"#{RISK_COLOURS[lvl]}", edgecolor="#404040", label=lab)
                       for lvl, lab in zip(RISK_LEVELS, legend_labels, strict=True)],
              loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4, frameon=False, fontsize=10)
    if font:
        ax.set_title(title, fontsize=15, weight="bold")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
