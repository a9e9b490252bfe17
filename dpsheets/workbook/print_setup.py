"""Print set-up of wide sheets (xlsxwriter): A4 landscape, at most two pages wide, never below a readable size.

"Fit to one page wide" prints the 28-column hazard register at 3–5 pt on A4. Instead a sheet
that does not fit one page at full size is printed two pages wide with the header rows (and
the first, identifying columns) repeated; the scale this needs is computed from the column
widths and never goes below ``MIN_SCALE`` (10 pt text prints at no less than 8 pt). A sheet too
wide even for that is printed at ``MIN_SCALE`` across as many pages as it takes.

On A3 (``[print] paper = "A3"``) a wide register prints one page wide at no less than ``MIN_SCALE``:
:func:`widths_for` narrows its wrapping text columns just enough (never below ``MIN_WRAP_WIDTH``),
while codes, dates, phones, numbers and choices keep their full width and never wrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

A4, A3 = 9, 8  # Excel paper codes
PAPER_CODES = {"A4": A4, "A3": A3}
PAPER_WIDTH_IN = {A4: 11.69, A3: 16.54}  # landscape
MARGIN_IN = 0.4
MIN_SCALE = 80  # percent: 10 pt prints at 8 pt
PAGE_BREAK_SLACK = 0.93  # pages break at column boundaries: part of the second page stays empty
MIN_WRAP_WIDTH = 6.0  # a narrowed text column still holds three Chinese characters a line
ID_WIDTH = 22  # a column of 18-character credit codes (Calibri 11: upper-case letters are wider than digits)


def column_points(width: float) -> float:
    """Printed width in points of an Excel column of *width* characters (default font Calibri 11: 7 px per character)."""
    return (width * 7 + 5) * 0.75


def printable_points(paper: int = A4) -> float:
    return (PAPER_WIDTH_IN[paper] - 2 * MARGIN_IN) * 72


def scale_for(widths: Sequence[float], pages_wide: int, paper: int = A4) -> int:
    """The print scale (percent, at most 100) at which the columns fit *pages_wide* landscape pages."""
    total = sum(column_points(w) for w in widths)
    room = printable_points(paper) * (pages_wide if pages_wide == 1 else pages_wide * PAGE_BREAK_SLACK)
    return min(100, int(room / total * 100))


def widths_for(widths: Sequence[float], wraps: Sequence[bool], paper: int = A4) -> list[float]:
    """The column widths to write: as declared on A4; on A3 the wrapping columns narrowed evenly (to no less
    than MIN_WRAP_WIDTH, never wider than declared) so that the sheet fits one page wide at MIN_SCALE."""
    if paper != A3 or scale_for(widths, 1, paper) >= MIN_SCALE:
        return list(widths)
    # aim at MIN_SCALE + 4: Excel rounds widths to whole pixels, and LibreOffice, measuring the columns in
    # the fallback of a missing default font, finds them up to 3 % wider (it then prints at 78 %, not 80 %)
    room = printable_points(paper) * 100 / (MIN_SCALE + 4)

    def narrowed(factor: float) -> list[float]:
        return [min(w, max(MIN_WRAP_WIDTH, round(w * factor * 2) / 2)) if wrap else w
                for w, wrap in zip(widths, wraps, strict=True)]

    factor = 1.0
    while factor > 0.05 and sum(column_points(w) for w in narrowed(factor)) > room:
        factor -= 0.01
    return narrowed(factor)


def landscape_wide(ws: Any, widths: Sequence[float], *, header_rows: tuple[int, int] = (0, 0),
                   repeat_columns: int = 0, paper: int = A4) -> int:
    """A4 (or A3) landscape, header rows repeated on every page. On A4 one page wide if it fits at full
    size, else two pages wide at no less than MIN_SCALE; on A3 one page wide whenever that is at least
    MIN_SCALE (see :func:`widths_for`). Returns the scale the sheet prints at."""
    ws.set_landscape()
    ws.set_paper(paper)
    ws.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=0.5, bottom=0.5)
    ws.repeat_rows(*header_rows)
    one = scale_for(widths, 1, paper)
    if one >= 100 or (paper == A3 and one >= MIN_SCALE):
        ws.fit_to_pages(1, 0)
        return one
    if repeat_columns:  # the identifying columns on the second page too
        ws.repeat_columns(0, repeat_columns - 1)
        widths = [*widths, *widths[:repeat_columns]]
    two = scale_for(widths, 2, paper)
    if two >= MIN_SCALE:
        ws.fit_to_pages(2, 0)
        return two
    ws.set_print_scale(MIN_SCALE)
    return MIN_SCALE
