"""The printable document kinds, declared once.

The Word template of each kind (:mod:`dpsheets.documents.template_build`), its renderer
(:mod:`dpsheets.documents.render`), the ``--only`` choices of ``dpsheets docs`` and the README's list
are derived from this table or tested equal to it (tests/test_documents.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentKind:
    """One kind of printable document: its code, title, page items and help line."""

    key: str  # stable code, used on the command line (--only cards)
    title: str  # the document's Chinese name; the template and the output are "<title>.docx"
    items: str | None  # the context list with one entry per page ("cards"), or None for one document
    help: str  # one line for the command's help

    @property
    def filename(self) -> str:
        return f"{self.title}.docx"


KINDS: tuple[DocumentKind, ...] = (
    DocumentKind("cards", "岗位告知卡", "cards", "每个岗位一张，带岗位二维码"),
    DocumentKind("duty_lists", "岗位安全责任清单", "employees", "每人一张"),
    DocumentKind("notices", "隐患整改通知书", "notices", "每个责任单位一份，列出未销号隐患"),
    DocumentKind("reminders", "逾期催办通知", "reminders", "每项逾期隐患一份"),
    DocumentKind("majors", "重大事故隐患报告", "majors", "每项重大隐患一份"),
    DocumentKind("board", "风险公告栏", None, "较大以上风险和四色风险分布图"),
    DocumentKind("quarterly", "季度隐患统计表", None, "一个季度的隐患排查治理统计"),
)
BY_KEY: dict[str, DocumentKind] = {k.key: k for k in KINDS}
KEYS: tuple[str, ...] = tuple(BY_KEY)

# The county's roll-up report is rendered from a template of the same folder, but is not a kind of
# an enterprise's documents.
COUNTY_REPORT = DocumentKind("county_report", "汇总报告", None, "县（市、区）汇总报告")


@dataclass(frozen=True)
class BoardPaper:
    """The 风险公告栏 on one paper size: page, text scale, the map's largest size, the rows of its risk table."""

    paper: str  # "A4" or "A3", as ``[print] paper`` names it
    width_mm: float
    height_mm: float
    scale: float  # font sizes and column widths against A4
    margin_mm: float
    map_width_mm: float  # the map at most this wide …
    map_height_mm: float  # … and this high (a tall sketch is drawn narrower)
    key_rows: int  # major and significant risks listed; the rest are counted
    qr_mm: float
    reward_rows: int = 4  # 奖惩考核 of the last 12 months listed, newest first; the rest are counted

    def pt(self, size: float) -> float:
        """A font size of the A4 board on this paper, to the half point Word stores."""
        return round(size * self.scale * 2) / 2

    @property
    def filename(self) -> str:
        return BY_KEY["board"].filename if self.paper == "A4" else f"{BY_KEY['board'].title}_{self.paper}.docx"


BOARD_TABLE_PT = 9.5  # the board's tables on A4 (the 等级 cell, written by the renderer, too)
BOARD_PAPERS: dict[str, BoardPaper] = {
    "A4": BoardPaper("A4", 210, 297, 1.0, 12, 100, 68, 6, 28),
    "A3": BoardPaper("A3", 297, 420, 1.3, 15, 240, 120, 10, 40, reward_rows=3),
}
