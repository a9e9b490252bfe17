"""一图: the four-colour risk distribution map, drawn on the plant's own layout.

With a sketch on the 风险分布图 sheet, each area is drawn where the clerk put it and as large as
the clerk drew it, coloured by the highest level of its risks (red 重大, orange 较大, yellow
一般, blue 低), labelled with its name and its count per level; the legend gives the risk points
per level. Without a sketch it falls back to a tidy block diagram, one labelled block per
所在位置; locations that name no place on the plan (各车间, 全厂 …) are not drawn as zones but
listed under the map as plant-wide risks. Labels are Chinese through a font file found by
:mod:`dpsheets.documents.fonts`, never through matplotlib's cached font list.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

from dpsheets.documents.fonts import font_properties
from dpsheets.workbook.layout import Layout, area_key
from dpsheets.workbook.registers import RISK_COLOUR_NAMES, RISK_COLOURS, RISK_LEVELS

LEVEL_RANK = {level: i for i, level in enumerate(RISK_LEVELS)}  # 0 = 重大
UNRATED = "未评定"
UNRATED_COLOUR = "BFBFBF"
EMPTY_COLOUR = "F2F2F2"  # an area on the sketch without risks
SHORT = {"重大风险": "重大", "较大风险": "较大", "一般风险": "一般", "低风险": "低", UNRATED: "未评定"}
PLANT_WIDE = re.compile(r"^(各|全|整个|所有)|^(厂区|厂内|公司|全公司|全厂|厂区内|各区域)$")
FIG_WIDTH_IN = 6.3  # printed at 160 mm: point sizes below are true sizes on paper
BLOCK_W, BLOCK_H = 9, 5  # fallback blocks, in grid cells


@dataclass(frozen=True)
class Zone:
    location: str
    level: str  # highest level at this location; 未评定 when none rated; "" for an area without risks
    counts: dict[str, int]
    cells: frozenset[tuple[int, int]]

    @property
    def colour(self) -> str:
        return RISK_COLOURS.get(self.level, UNRATED_COLOUR if self.level else EMPTY_COLOUR)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def dark(self) -> bool:
        return self.level in ("重大风险", "低风险")


@dataclass(frozen=True)
class RiskMap:
    zones: list[Zone]
    plant_wide: dict[str, dict[str, int]]  # location → counts, for risks that are not at one place
    off_map: int  # risks whose location is not an area of the sketch
    sketched: bool
    totals: dict[str, int]  # risk points per level, all risks


def _count(risks: list[tuple[str | None, str | None]]) -> dict[str, dict[str, int]]:
    by_location: dict[str, dict[str, int]] = {}
    for location, level in risks:
        counts = by_location.setdefault((location or "").strip() or "未填写位置", {})
        key = level if level in LEVEL_RANK else UNRATED
        counts[key] = counts.get(key, 0) + 1
    return by_location


def _highest(counts: dict[str, int]) -> str:
    return min(counts, key=lambda k: LEVEL_RANK.get(k, 9)) if counts else ""


def build(risks: list[tuple[str | None, str | None]], layout: Layout | None = None) -> RiskMap:
    """The map's content from (所在位置, level) pairs and the sketch, if there is one."""
    by_location = _count(risks)
    totals: dict[str, int] = {}
    for counts in by_location.values():
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
    if layout is not None and layout.areas:
        merged: dict[str, dict[str, int]] = {}
        off = 0
        for location, counts in by_location.items():
            area = layout.area(location)
            if area is None:
                off += sum(counts.values())
                continue
            target = merged.setdefault(area_key(area.name), {})
            for k, v in counts.items():
                target[k] = target.get(k, 0) + v
        zones = [Zone(a.name, _highest(merged.get(area_key(a.name), {})), merged.get(area_key(a.name), {}), a.cells)
                 for a in layout.areas]
        return RiskMap(zones, {}, off, True, totals)
    places = {loc: c for loc, c in by_location.items() if not PLANT_WIDE.search(loc)}
    wide = {loc: c for loc, c in by_location.items() if PLANT_WIDE.search(loc)}
    ordered = sorted(places.items(), key=lambda kv: (LEVEL_RANK.get(_highest(kv[1]), 9), kv[0]))
    cols = max(1, math.ceil(math.sqrt(len(ordered) * 1.2)))
    zones = []
    for i, (loc, counts) in enumerate(ordered):
        r, c = divmod(i, cols)
        top, left = r * (BLOCK_H + 1), c * (BLOCK_W + 1)
        cells = frozenset((top + y, left + x) for y in range(BLOCK_H) for x in range(BLOCK_W))
        zones.append(Zone(loc, _highest(counts), counts, cells))
    return RiskMap(zones, wide, 0, False, totals)


def counts_text(counts: dict[str, int]) -> str:
    return " ".join(f"{SHORT.get(k, k)}{v}" for k, v in sorted(counts.items(), key=lambda kv: LEVEL_RANK.get(kv[0], 9)))


def _wrap(name: str, width_pt: float, height_pt: float) -> tuple[list[str], float]:
    """Lines (balanced) and font size that fit the name into width × height points (CJK: 1 em per character)."""
    best: tuple[list[str], float] = ([name], 0.0)
    for n in range(1, len(name) + 1):
        per_line = math.ceil(len(name) / n)
        lines = [name[i:i + per_line] for i in range(0, len(name), per_line)]
        size = min(width_pt * 0.86 / per_line, height_pt * 0.62 / (len(lines) + 0.8), 13.0)
        if size > best[1] + 0.01:
            best = (lines, size)
    return best


def draw(risk_map: RiskMap, title: str, image_format: str = "png") -> bytes:
    """The map as PNG bytes (or SVG with its texts kept as text, for inspecting the labels)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Patch

    cells = [cell for z in risk_map.zones for cell in z.cells] or [(0, 0)]
    top, left = min(r for r, _ in cells), min(c for _, c in cells)
    rows, cols = max(r for r, _ in cells) - top + 1, max(c for _, c in cells) - left + 1
    cols = max(cols, 12)
    cell_pt = FIG_WIDTH_IN * 72 / cols
    fig_h = rows * cell_pt / 72 + (0.9 if title else 0.6)
    fig = plt.figure(figsize=(FIG_WIDTH_IN, fig_h), dpi=170)
    ax = fig.add_axes((0, 0.62 / fig_h, 1, rows * cell_pt / 72 / fig_h))
    owner = {cell: i for i, z in enumerate(risk_map.zones) for cell in z.cells}
    # one image for the fills and one collection for the outlines: a few ms, not one artist per cell
    grid = [[(1.0, 1.0, 1.0)] * cols for _ in range(rows)]
    segments = []
    for i, zone in enumerate(risk_map.zones):
        rgb = (int(zone.colour[0:2], 16) / 255, int(zone.colour[2:4], 16) / 255, int(zone.colour[4:6], 16) / 255)
        for r, c in zone.cells:
            x, y = c - left, rows - 1 - (r - top)
            grid[r - top][c - left] = rgb
            for (dr, dc), seg in (((-1, 0), ((x, y + 1), (x + 1, y + 1))), ((1, 0), ((x, y), (x + 1, y))),
                                  ((0, -1), ((x, y), (x, y + 1))), ((0, 1), ((x + 1, y), (x + 1, y + 1)))):
                if owner.get((r + dr, c + dc)) != i:
                    segments.append(seg)
    ax.imshow(grid, extent=(0, cols, 0, rows), interpolation="nearest", aspect="auto")
    ax.add_collection(LineCollection(segments, colors="#303030", linewidths=1.2, capstyle="projecting"))
    for zone in risk_map.zones:
        _label(ax, zone, top, left, rows, cell_pt)
    ax.set_xlim(-0.2, cols + 0.2)
    ax.set_ylim(-0.2, rows + 0.2)
    ax.axis("off")
    legend = [Patch(facecolor=f"#{RISK_COLOURS[lvl]}", edgecolor="#404040",
                    label=f"{lvl}（{RISK_COLOUR_NAMES[lvl]}）{risk_map.totals.get(lvl, 0)} 处") for lvl in RISK_LEVELS]
    if risk_map.totals.get(UNRATED):
        legend.append(Patch(facecolor=f"#{UNRATED_COLOUR}", edgecolor="#404040", label=f"未评定 {risk_map.totals[UNRATED]} 处"))
    fig.legend(handles=legend, loc="lower center", ncol=len(legend), frameon=False, prop=font_properties(9),
               bbox_to_anchor=(0.5, 0.0), handlelength=1.6, columnspacing=1.2)
    if title:
        fig.suptitle(title, fontproperties=font_properties(13), y=1 - 0.05 / fig_h, va="top")
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format=image_format)
    plt.close(fig)
    return buffer.getvalue()


def _label(ax, zone: Zone, top: int, left: int, rows: int, cell_pt: float) -> None:  # noqa: ANN001
    r0 = min(r for r, _ in zone.cells)
    r1 = max(r for r, _ in zone.cells)
    c0 = min(c for _, c in zone.cells)
    c1 = max(c for _, c in zone.cells)
    centre = ((r0 + r1) / 2, (c0 + c1) / 2)
    if (round(centre[0]), round(centre[1])) not in zone.cells:  # an L-shaped area: the cell nearest the middle
        centre = min(zone.cells, key=lambda rc: (rc[0] - centre[0]) ** 2 + (rc[1] - centre[1]) ** 2)
        width, height = 1.0, 1.0
    else:
        width, height = c1 - c0 + 1, r1 - r0 + 1
    detail = counts_text(zone.counts)
    colour = "white" if zone.dark else "black"
    x = centre[1] - left + 0.5
    y = rows - 1 - (centre[0] - top) + 0.5
    w_pt, h_pt = width * cell_pt, height * cell_pt
    if h_pt < 42:  # a thin block (a road, a corridor): name and counts on one line
        line = f"{zone.location}　{detail}" if detail else zone.location
        size = min(w_pt * 0.9 / (len(zone.location) + 0.6 * len(detail) + 1), h_pt * 0.6, 11.0)
        ax.text(x, y, line, ha="center", va="center", color=colour, fontproperties=font_properties(max(size, 5.5)))
        return
    lines, size = _wrap(zone.location, w_pt, h_pt * (0.72 if detail else 1))
    ax.text(x, y + (0.16 * height if detail else 0), "\n".join(lines), ha="center", va="center", color=colour,
            fontproperties=font_properties(max(size, 5.5)), linespacing=1.05)
    if detail:
        small = min(size * 0.75, w_pt * 0.9 / max(len(detail) * 0.6, 1), 9)
        if small >= 5:
            ax.text(x, y - 0.3 * height, detail, ha="center", va="center", color=colour,
                    fontproperties=font_properties(small))
