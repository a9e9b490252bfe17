"""The printable document kinds, declared once.

The Word template of each kind (:mod:`dpsheets.documents.template_build`), its renderer
(:mod:`dpsheets.documents.render`), the ``--only`` choices of ``dpsheets docs`` and the README's list
are derived from this table or tested equal to it (tests/test_documents.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentKind:
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
