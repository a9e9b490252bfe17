"""Print set-up of wide sheets (xlsxwriter): A4 landscape, at most two pages wide, never below a readable size.

"Fit to one page wide" prints the 28-column hazard register at 3–5 pt on A4. Instead a sheet
that does not fit one page at full size is printed two pages wide with the header rows (and
the first, identifying columns) repeated; the scale this needs is computed from the column
widths and never goes below ``MIN_SCALE`` (10 pt text prints at no less than 8 pt). A sheet too
wide even for that is printed at ``MIN_SCALE`` across as many pages as it takes, or on A3 when
configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

A4, A3 = 9, 8  # Excel paper codes
PAPER_WIDTH_IN = {A4: 11.69, A3: 16.54}  # landscape
MARGIN_IN = 0.4
MIN_SCALE = 80  # percent: 10 pt prints at 8 pt
PAGE_BREAK_SLACK = 0.93  # pages break at column boundaries: part of the second page stays empty
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


def landscape_wide(ws: Any, widths: Sequence[float], *, header_rows: tuple[int, int] = (0, 0),
                   repeat_columns: int = 0, paper: int = A4) -> int:
    """A4 (or A3) landscape, one page wide if it fits at full size, else two pages wide at no less than
    MIN_SCALE, header rows repeated on every page. Returns the scale the sheet prints at."""
    ws.set_landscape()
    ws.set_paper(paper)
    ws.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=0.5, bottom=0.5)
    ws.repeat_rows(*header_rows)
    one = scale_for(widths, 1, paper)
    if one >= 100:
        ws.fit_to_pages(1, 0)
        return 100
    if repeat_columns:  # the identifying columns on the second page too
        ws.repeat_columns(0, repeat_columns - 1)
        widths = [*widths, *widths[:repeat_columns]]
    two = scale_for(widths, 2, paper)
    if two >= MIN_SCALE:
        ws.fit_to_pages(2, 0)
        return two
    ws.set_print_scale(MIN_SCALE)
    return MIN_SCALE
