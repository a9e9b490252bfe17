"""一图: the four-colour risk distribution map, drawn on the plant's own layout.

With a sketch on the 风险分布图 sheet, each area is drawn where the clerk put it and as large as
the clerk drew it, coloured by the highest level of its risks (red 重大, orange 较大, yellow
一般, blue 低), labelled with its name and its count per level; the legend gives the risk points
per level. Without a sketch it falls back to a tidy block diagram, one labelled block per
所在位置; locations that name no place on the plan (各车间, 全厂 …) are not drawn as zones but
listed under the map as plant-wide risks. Labels are Chinese through a font file found by
:mod:`dpsheets.documents.fonts`, never through a cached font list.

The picture is laid out once (:func:`plan`: coloured cells, area outlines, texts at their true
printed size for the width the map is printed at) and painted by Pillow as PNG — a few
milliseconds, where matplotlib took a third of a plant's whole document set — or written as
SVG with its texts kept as text, for inspecting the labels.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from dpsheets.documents.fonts import find_cjk_font
from dpsheets.workbook.layout import Layout, area_key
from dpsheets.workbook.registers import RISK_COLOUR_NAMES, RISK_COLOURS, RISK_LEVELS

LEVEL_RANK = {level: i for i, level in enumerate(RISK_LEVELS)}  # 0 = 重大
UNRATED = "未评定"
UNRATED_COLOUR = "BFBFBF"
EMPTY_COLOUR = "F2F2F2"  # an area on the sketch without risks
SHORT = {"重大风险": "重大", "较大风险": "较大", "一般风险": "一般", "低风险": "低", UNRATED: "未评定"}
PLANT_WIDE = re.compile(r"^(各|全|整个|所有)|^(厂区|厂内|公司|全公司|全厂|厂区内|各区域)$")
WIDTH_MM = 160.0  # the printed width the map is drawn for by default: point sizes below are true sizes on paper
DPI = 220
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


def _wrap(name: str, width_pt: float, height_pt: float, largest: float = 13.0) -> tuple[list[str], float]:
    """Lines (balanced) and font size that fit the name into width × height points (CJK: 1 em per character)."""
    best: tuple[list[str], float] = ([name], 0.0)
    for n in range(1, len(name) + 1):
        per_line = math.ceil(len(name) / n)
        lines = [name[i:i + per_line] for i in range(0, len(name), per_line)]
        size = min(width_pt * 0.86 / per_line, height_pt * 0.62 / (len(lines) + 0.8), largest)
        if size > best[1] + 0.01:
            best = (lines, size)
    return best


RGB = tuple[int, int, int]


def _rgb(hex_colour: str) -> RGB:
    return int(hex_colour[0:2], 16), int(hex_colour[2:4], 16), int(hex_colour[4:6], 16)


@dataclass(frozen=True)
class Text:
    text: str  # lines separated by \n
    x: float  # centre, points from the left
    y: float  # centre, points from the top
    size: float  # points on paper
    colour: RGB = (0, 0, 0)


@dataclass
class Picture:
    """The map laid out in points on paper: fills, outlines and texts (what PNG and SVG both paint)."""

    width: float
    height: float
    fills: list[tuple[float, float, float, float, RGB]] = field(default_factory=list)  # x0, y0, x1, y1, colour
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    line_width: float = 1.2


LEGEND_PT = 30.0  # the band under the plan that holds the legend
TITLE_PT = 26.0


def plan(risk_map: RiskMap, title: str = "", width_mm: float = WIDTH_MM) -> Picture:
    """Where everything goes, in points on paper for a map printed *width_mm* wide."""
    cells = [cell for z in risk_map.zones for cell in z.cells] or [(0, 0)]
    top, left = min(r for r, _ in cells), min(c for _, c in cells)
    rows, cols = max(r for r, _ in cells) - top + 1, max(c for _, c in cells) - left + 1
    width = width_mm / 25.4 * 72
    pad = 2.0  # the outlines whole at the edges
    cell = (width - 2 * pad) / max(cols, 12)
    y0 = TITLE_PT if title else pad
    x0 = (width - cols * cell) / 2
    big = max(1.0, width_mm / 100)  # a map printed larger than the A4 board's has larger labels
    pic = Picture(width, y0 + rows * cell + LEGEND_PT * big)
    if title:
        pic.texts.append(Text(title, width / 2, TITLE_PT / 2, 13))
    owner = {c: i for i, z in enumerate(risk_map.zones) for c in z.cells}
    for i, zone in enumerate(risk_map.zones):
        colour = _rgb(zone.colour)
        for r, c0, c1 in _runs(zone.cells):  # one rectangle per run of cells in a row
            pic.fills.append((x0 + (c0 - left) * cell, y0 + (r - top) * cell, x0 + (c1 - left + 1) * cell,
                              y0 + (r - top + 1) * cell, colour))
        for r, c in sorted(zone.cells):
            x, y = x0 + (c - left) * cell, y0 + (r - top) * cell
            for (dr, dc), seg in (((-1, 0), (x, y, x + cell, y)), ((1, 0), (x, y + cell, x + cell, y + cell)),
                                  ((0, -1), (x, y, x, y + cell)), ((0, 1), (x + cell, y, x + cell, y + cell))):
                if owner.get((r + dr, c + dc)) != i:
                    pic.lines.append(seg)
    for zone in risk_map.zones:
        pic.texts.extend(_labels(zone, top, left, x0, y0, cell, big))
    _legend(pic, risk_map, y0 + rows * cell + LEGEND_PT * big / 2, 9 * big)
    return pic


def _runs(cells: frozenset[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(row, first column, last column) of each horizontal run of *cells*."""
    runs: list[tuple[int, int, int]] = []
    for r, c in sorted(cells):
        if runs and runs[-1][0] == r and runs[-1][2] == c - 1:
            runs[-1] = (r, runs[-1][1], c)
        else:
            runs.append((r, c, c))
    return runs


def _labels(zone: Zone, top: int, left: int, x0: float, y0: float, cell: float, big: float = 1.0) -> list[Text]:
    r0, r1 = min(r for r, _ in zone.cells), max(r for r, _ in zone.cells)
    c0, c1 = min(c for _, c in zone.cells), max(c for _, c in zone.cells)
    centre = ((r0 + r1) / 2, (c0 + c1) / 2)
    if (round(centre[0]), round(centre[1])) not in zone.cells:  # an L-shaped area: the cell nearest the middle
        centre = min(zone.cells, key=lambda rc: (rc[0] - centre[0]) ** 2 + (rc[1] - centre[1]) ** 2)
        width, height = 1.0, 1.0
    else:
        width, height = c1 - c0 + 1, r1 - r0 + 1
    detail = counts_text(zone.counts)
    colour = (255, 255, 255) if zone.dark else (0, 0, 0)
    x = x0 + (centre[1] - left + 0.5) * cell
    y = y0 + (centre[0] - top + 0.5) * cell
    w_pt, h_pt = width * cell, height * cell
    if h_pt < 42:  # a thin block (a road, a corridor): name and counts on one line …
        line = f"{zone.location}　{detail}" if detail else zone.location
        size = min(w_pt * 0.9 / _text_width(line, 1.0), h_pt * 0.6, 11.0 * big)
        if size >= 6.5 or not detail:
            return [Text(line, x, y, max(size, 5.5), colour)]
        # … or, in a small block, the name over the counts
        size = min(w_pt * 0.9 / max(_text_width(zone.location, 1.0), _text_width(detail, 1.0)), h_pt * 0.4, 11.0 * big)
        return [Text(f"{zone.location}\n{detail}", x, y, max(size, 5.0), colour)]
    lines, size = _wrap(zone.location, w_pt, h_pt * (0.72 if detail else 1), 13.0 * big)
    size = max(size, 5.5)
    out = [Text("\n".join(lines), x, y - (0.16 * h_pt if detail else 0), size, colour)]
    small = min(size * 0.75, w_pt * 0.9 / max(_text_width(detail, 1.0), 1), 9 * big)
    if detail and small >= 5:
        out.append(Text(detail, x, y + 0.3 * h_pt, small, colour))
    return out


def _legend(pic: Picture, risk_map: RiskMap, y: float, size: float = 9.0) -> None:
    """Swatch and 重大风险（红）n 处 for each level, centred in one row under the plan."""
    items = [(_rgb(RISK_COLOURS[lvl]), f"{lvl}（{RISK_COLOUR_NAMES[lvl]}）{risk_map.totals.get(lvl, 0)} 处") for lvl in RISK_LEVELS]
    if risk_map.totals.get(UNRATED):
        items.append((_rgb(UNRATED_COLOUR), f"未评定 {risk_map.totals[UNRATED]} 处"))
    widths = [size * 1.6 + size * 0.4 + _text_width(text, size) + size * 1.2 for _, text in items]
    if sum(widths) > pic.width * 0.96:  # a narrow map: smaller legend text
        factor = pic.width * 0.96 / sum(widths)
        size, widths = size * factor, [w * factor for w in widths]
    x = (pic.width - sum(widths)) / 2
    for (colour, text), w in zip(items, widths, strict=True):
        pic.fills.append((x, y - size * 0.4, x + size * 1.6, y + size * 0.4, colour))
        pic.lines.extend([(x, y - size * 0.4, x + size * 1.6, y - size * 0.4), (x, y + size * 0.4, x + size * 1.6, y + size * 0.4),
                          (x, y - size * 0.4, x, y + size * 0.4), (x + size * 1.6, y - size * 0.4, x + size * 1.6, y + size * 0.4)])
        text_w = _text_width(text, size)
        pic.texts.append(Text(text, x + size * 2.0 + text_w / 2, y, size))
        x += w


def _text_width(text: str, size: float) -> float:
    """Width in points: CJK and full-width characters 1 em, others about half."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.55 for ch in text)


def _font(size_px: int) -> Any:
    font = find_cjk_font()
    return _load_font(font.path if font else "", font.index if font else 0, size_px)


@lru_cache(maxsize=64)
def _load_font(path: str, index: int, size_px: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size_px, index=index) if path else ImageFont.load_default(size=size_px)


def draw(risk_map: RiskMap, title: str = "", image_format: str = "png", width_mm: float = WIDTH_MM) -> bytes:
    """The map as PNG bytes for printing *width_mm* wide (or SVG with its texts kept as text, for inspecting the labels)."""
    pic = plan(risk_map, title, width_mm)
    if image_format == "svg":
        return _svg(pic)
    from PIL import Image, ImageDraw

    k = DPI / 72
    image = Image.new("RGB", (round(pic.width * k), round(pic.height * k)), (255, 255, 255))
    pen = ImageDraw.Draw(image)
    for x0, y0, x1, y1, colour in pic.fills:
        pen.rectangle((round(x0 * k), round(y0 * k), round(x1 * k), round(y1 * k)), fill=colour)
    stroke = max(1, round(pic.line_width * k))
    for x0, y0, x1, y1 in pic.lines:
        pen.line((x0 * k, y0 * k, x1 * k, y1 * k), fill=(48, 48, 48), width=stroke)
    for t in pic.texts:
        pen.multiline_text((t.x * k, t.y * k), t.text, fill=t.colour, font=_font(round(t.size * k)), anchor="mm",
                           align="center", spacing=round(t.size * k * 0.08))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(DPI, DPI), compress_level=1)
    return buffer.getvalue()


def _svg(pic: Picture) -> bytes:
    hexed = "#{:02x}{:02x}{:02x}".format
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{pic.width:.1f}pt" height="{pic.height:.1f}pt" '
             f'viewBox="0 0 {pic.width:.1f} {pic.height:.1f}">']
    parts += [f'<rect x="{x0:.2f}" y="{y0:.2f}" width="{x1 - x0:.2f}" height="{y1 - y0:.2f}" fill="{hexed(*c)}"/>'
              for x0, y0, x1, y1, c in pic.fills]
    parts += [f'<line x1="{a:.2f}" y1="{b:.2f}" x2="{c:.2f}" y2="{d:.2f}" stroke="#303030" stroke-width="{pic.line_width}"/>'
              for a, b, c, d in pic.lines]
    for t in pic.texts:
        lines = t.text.split("\n")
        spans = "".join(f'<tspan x="{t.x:.2f}" dy="{0 if i == 0 else t.size * 1.08:.2f}">{escape(line)}</tspan>'
                        for i, line in enumerate(lines))
        top = t.y - (len(lines) - 1) * t.size * 0.54
        parts.append(f'<text x="{t.x:.2f}" y="{top:.2f}" font-size="{t.size:.1f}" text-anchor="middle" '
                     f'dominant-baseline="central" fill="{hexed(*t.colour)}">{spans}</text>')
    parts.append("</svg>")
    return "\n".join(parts).encode("utf-8")
