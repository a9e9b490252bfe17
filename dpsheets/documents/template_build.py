"""Builds the Word templates (python-docx, with docxtpl tags).

They ship inside the package (``dpsheets/documents/templates/``, package data, read at run time);
the repository keeps identical, user-facing copies in ``document_templates/`` (a test keeps them
equal). Run ``python3 -m dpsheets.documents.template_build`` to rebuild both. A county may copy
and edit the .docx files in Word (letterhead, wording) and point ``templates_dir`` at its folder;
the tags in ``{{ }}`` and ``{% %}`` must stay.
Every tag is written as one run so that docxtpl sees it whole. A4 page set-up; the
East Asian fonts are set (w:eastAsia) so that Chinese prints in 仿宋/黑体/宋体.
Each template renders all items of its kind in one pass (a loop), one item per page.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from dpsheets.documents.kinds import BOARD_PAPERS, BOARD_TABLE_PT, COUNTY_REPORT, KINDS, BoardPaper
from dpsheets.fsutil import atomic_path
from dpsheets.workbook.registers import identity_columns

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"  # shipped in the package
EDITABLE_DIR = Path(__file__).resolve().parents[2] / "document_templates"  # the repository's user-facing copies
BODY_FONT, TITLE_FONT, TABLE_FONT = "仿宋", "黑体", "宋体"
BLANK = "＿＿＿＿＿＿"
DATE_BLANK = "＿＿＿＿年＿＿月＿＿日"


def _set_font(rpr_owner, name: str, size: float | None = None, bold: bool | None = None) -> None:  # noqa: ANN001
    font = rpr_owner.font
    font.name = name
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rpr = rpr_owner.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    _set_lang(rpr)


def _set_lang(rpr) -> None:  # noqa: ANN001
    """Mark the text Simplified Chinese: where 仿宋/黑体/宋体 are missing, LibreOffice and Word then fall back
    to a Simplified Chinese face (Noto Sans CJK SC), never to the Japanese one."""
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _new_document(margin_mm: float = 20, top_mm: float = 18, page_mm: tuple[float, float] = (210, 297)) -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(page_mm[0]), Mm(page_mm[1])
    section.left_margin = section.right_margin = Mm(margin_mm)
    section.top_margin = section.bottom_margin = Mm(top_mm)
    normal = doc.styles["Normal"]
    _set_font(normal, BODY_FONT, 12)
    normal.paragraph_format.space_after = Pt(2)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _set_lang(rpr)
    return doc


def _para(container, text: str = "", *, size: float = 12, bold: bool = False, font: str = BODY_FONT,  # noqa: ANN001
          align: str | None = None, page_break: bool = False, indent: bool = False, right_indent: bool = False):  # noqa: ANN202
    p = container.add_paragraph()
    if text:
        _set_font(p.add_run(text), font, size, bold)  # one run: a docxtpl tag is never split
    if align == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif align == "right":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if page_break:
        p.paragraph_format.page_break_before = True
    if indent:
        p.paragraph_format.first_line_indent = Pt(24)
    if right_indent:  # GB/T 9704: 落款 and 成文日期 end four characters from the right margin
        p.paragraph_format.right_indent = Pt(size * 4)
    return p


def _title(doc, text: str, page_break: bool = True, size: float = 20) -> None:  # noqa: ANN001
    _para(doc, text, size=size, bold=True, font=TITLE_FONT, align="center", page_break=page_break)


def _cell(cell, text: str, *, bold: bool = False, size: float = 11, align: str | None = None) -> None:  # noqa: ANN001
    p = cell.paragraphs[0]
    if text:
        _set_font(p.add_run(text), TABLE_FONT if not bold else TITLE_FONT, size, bold)
    if align == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _table(doc, rows: int, widths_mm: list[float], header: bool = True):  # noqa: ANN001, ANN202
    table = doc.add_table(rows=rows, cols=len(widths_mm))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    for i, row in enumerate(table.rows):
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
        _row_property(row, "w:cantSplit")  # a row never splits across pages
        if i == 0 and header:
            _row_property(row, "w:tblHeader")  # the header row repeats on every page
    return table


def _row_property(row, tag: str, **attrs: str):  # noqa: ANN001, ANN202
    trpr = row._tr.get_or_add_trPr()
    element = OxmlElement(tag)
    for k, v in attrs.items():
        element.set(qn(k), v)
    trpr.append(element)
    return element


def _row_height(row, mm: float) -> None:  # noqa: ANN001
    """At least *mm* high (the row grows with its text)."""
    _row_property(row, "w:trHeight", **{"w:val": str(int(mm * 56.7)), "w:hRule": "atLeast"})


def _plain_table(doc, rows: int, widths_mm: list[float]):  # noqa: ANN001, ANN202
    """A table without borders, for laying out signature lines and the QR code beside text."""
    table = _table(doc, rows, widths_mm, header=False)
    table.style = None
    return table


def _loop_table(doc, headers: list[str], cells: list[str], widths: list[float], loop: str,  # noqa: ANN001
                size: float = 10.5) -> None:
    """A table whose middle row repeats: header row, {%tr for %}, the item row, {%tr endfor %}.

    Column widths are chosen so that codes, dates, phone numbers and levels fit on one line."""
    table = _table(doc, 4, widths)
    for c, text in enumerate(headers):
        _cell(table.cell(0, c), text, bold=True, size=size, align="center")
    _cell(table.cell(1, 0), f"{{%tr for {loop} %}}")
    for c, text in enumerate(cells):
        _cell(table.cell(2, c), text, size=size)
    _cell(table.cell(3, 0), "{%tr endfor %}")


def _kv_table(doc, rows: list[tuple[str, str]], widths: tuple[float, float] = (40, 130), size: float = 11):  # noqa: ANN001, ANN201
    table = _table(doc, len(rows), list(widths), header=False)
    for r, (label, value) in enumerate(rows):
        _cell(table.cell(r, 0), label, bold=True, size=size)
        _cell(table.cell(r, 1), value, size=size)
    return table


def _loop(doc, head: str) -> None:  # noqa: ANN001
    _para(doc, f"{{%p for {head} %}}")


def _end(doc) -> None:  # noqa: ANN001
    _para(doc, "{%p endfor %}")


def card_template(doc) -> None:  # noqa: ANN001
    """One A4 page per post, filled top to bottom; the post's QR code at least 35 mm wide."""
    _loop(doc, "card in cards")
    _title(doc, "岗位风险隐患和紧急情况处置告知卡", size=22)
    _para(doc, "{{ enterprise.name }}", size=14, align="center", font=TITLE_FONT)
    table = _table(doc, 9, [47, 123], header=False)
    head = table.cell(0, 0).merge(table.cell(0, 1))
    _cell(head, "{% cellbg card.colour %}", size=4)
    head.add_paragraph()
    _set_font(head.paragraphs[1].add_run("{{r card.header }}"), TITLE_FONT, 16, True)
    head.paragraphs[1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _row_height(table.rows[0], 18)
    rows = [("一、岗位职责", "card.duties", 20, 14), ("二、危险有害因素", "card.hazards", 20, 14),
            ("三、事故诱因", "card.triggers", 20, 14), ("四、防范控制措施", "card.controls", 20, 14),
            ("五、应急处置措施", "card.emergency", 20, 14), ("岗位操作规程", "card.procedure", 10, 11),
            ("应急电话", "card.phones", 12, 13)]
    for r, (label, var, height, size) in enumerate(rows, start=1):  # rows grow with their text; the page stays one
        _cell(table.cell(r, 0), label, bold=True, size=14)
        _cell(table.cell(r, 1), f"{{{{ {var} }}}}", size=size)
        _row_height(table.rows[r], height)
    _cell(table.cell(8, 0), "{{ card.qr }}", align="center")
    _cell(table.cell(8, 1), "{{ card.qr_caption }}", size=12)
    _row_height(table.rows[8], 42)
    _para(doc, "主要负责人：{{ enterprise.principal }}　　安全管理人员：{{ enterprise.safety_officer }}　　告知日期：{{ today }}", size=10.5)
    _end(doc)


def _signatures(doc, rows: list[tuple[str, str]]) -> None:  # noqa: ANN001
    """Signature lines in a borderless table, so that the blanks line up."""
    table = _plain_table(doc, len(rows), [85, 85])
    for r, (left, right) in enumerate(rows):
        _cell(table.cell(r, 0), left)
        _cell(table.cell(r, 1), right)
        _row_height(table.rows[r], 10)


def _qr_block(doc, image: str, caption: str, width: float = 40) -> None:  # noqa: ANN001
    """The QR code at the right with what it holds written beside it."""
    table = _plain_table(doc, 1, [170 - width, width])
    _cell(table.cell(0, 0), caption, size=9)
    table.cell(0, 0).paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    table.cell(0, 0).vertical_alignment = WD_ALIGN_VERTICAL.CENTER  # the caption beside the code, not above it
    _cell(table.cell(0, 1), image, align="center")


def duty_list_template(doc) -> None:  # noqa: ANN001
    _loop(doc, "u in units")
    _title(doc, "{{ u.tier }}安全责任清单")
    _para(doc, "{{ enterprise.name }}（从车间到班组）", size=13, align="center", font=TITLE_FONT)
    _kv_table(doc, [("{{ u.tier }}", "{{ u.unit }}"), ("负责人", "{{ u.head }}"), ("联系电话", "{{ u.phone }}"),
                    ("安全职责", "{{ u.duties }}"), ("管控的风险点", "{{ u.risks }}")])
    _para(doc)
    _signatures(doc, [(f"负责人签字：{BLANK}", f"日期：{DATE_BLANK}")])
    _qr_block(doc, "{{ enterprise_qr }}", "{{ enterprise_qr_caption }}", 34)
    _end(doc)
    _loop(doc, "e in employees")
    _title(doc, "岗位安全责任清单")
    _para(doc, "{{ enterprise.name }}", size=13, align="center", font=TITLE_FONT)
    _kv_table(doc, [("姓名", "{{ e.name }}"), ("车间 / 班组", "{{ e.workshop }} {{ e.team }}"), ("岗位", "{{ e.post }}"),
                    ("岗位风险等级", "{{ e.level }}"), ("岗位职责", "{{ e.duties }}"), ("危险有害因素", "{{ e.hazards }}"),
                    ("事故诱因", "{{ e.triggers }}"), ("防范控制措施", "{{ e.controls }}"), ("应急处置措施", "{{ e.emergency }}"),
                    ("本人安全责任", "遵守本岗位安全操作规程，正确佩戴劳动防护用品；每班岗前检查设备和作业环境，发现隐患立即报告；"
                                   "熟练回答应知应会五个问题，掌握本岗位应急处置方法。")])
    _para(doc)
    _para(doc, "本人已知晓以上岗位风险、管控措施和应急处置方法，承诺严格遵守。", indent=True)
    _para(doc)
    _signatures(doc, [(f"员工签字：{BLANK}", f"日期：{DATE_BLANK}"), (f"班组长签字：{BLANK}", f"车间负责人签字：{BLANK}")])
    _qr_block(doc, "{{ e.qr }}", "{{ e.qr_caption }}", 34)
    _end(doc)


def _letter_head(doc, title: str, item: str, addressee: str) -> None:  # noqa: ANN001
    """GB/T 9704: title, the document number centred below it, the addressee flush left with a colon."""
    _title(doc, title)
    _para(doc, f"{{{{ {item}.number }}}}", align="center", size=12)
    _para(doc)
    _para(doc, f"{addressee}：")


def _sign_off(doc, date_tag: str = "{{ today }}") -> None:  # noqa: ANN001
    """落款: the issuing unit and the date, right-aligned with space above for the seal; then contact and phone."""
    _para(doc)
    _para(doc, "{{ official.issuer }}（盖章）", align="right", right_indent=True)
    _para(doc, date_tag, align="right", right_indent=True)
    _para(doc, "联系人：{{ official.contact }}　　联系电话：{{ official.phone }}", size=11)


def notice_template(doc) -> None:  # noqa: ANN001
    _loop(doc, "n in notices")
    _letter_head(doc, "隐患整改通知书", "n", "{{ n.unit }}")
    _para(doc, "经隐患排查，你单位存在下列事故隐患{% if n.majors %}，其中重大事故隐患 {{ n.majors }} 项（★）{% endif %}。"
               "请按整改措施在整改期限内完成整改，整改完成后报请验收；整改期间应落实安全防范措施，确保安全。", indent=True)
    _loop_table(doc, ["序号", "隐患编号", "隐患名称及描述", "隐患等级", "整改措施", "整改期限", "责任人"],
                ["{{ h.no }}", "{{ h.number }}", "{{ h.name }}（{{ h.location }}）：{{ h.description }}", "{{r h.level_rt }}",
                 "{{ h.measures }}", "{{ h.short_deadline }}", "{{ h.owner }}"],
                [11, 27, 41, 21, 30, 25, 15], "h in n.hazards", size=10)
    _para(doc, "整改要求：1. 按期完成整改，不得拖延；2. 重大事故隐患须停止相关作业，按治理方案整改并报告；"
               "3. 整改完成后填写完成日期，报安全管理人员验收销号。", size=11)
    _sign_off(doc)
    _signatures(doc, [(f"签收人：{BLANK}", f"签收日期：{DATE_BLANK}")])
    _qr_block(doc, "{{ enterprise_qr }}", "{{ enterprise_qr_caption }}")
    _end(doc)


def reminder_template(doc) -> None:  # noqa: ANN001
    _loop(doc, "r in reminders")
    _letter_head(doc, "隐患逾期整改催办通知", "r", "{{ r.unit }}")
    _para(doc, "你单位下列隐患已超过治理期限，仍未完成整改销号。请立即落实治理措施，于 3 日内书面说明逾期原因和完成时间；"
               "整改期间应落实安全防范措施，确保安全。", indent=True)
    _kv_table(doc, [("隐患编号", "{{ r.hazard_number }}"), ("隐患名称", "{{ r.name }}"), ("隐患等级", "{{r r.level_rt }}"),
                    ("隐患位置", "{{ r.location }}"), ("隐患描述", "{{ r.description }}"), ("治理措施", "{{ r.measures }}"),
                    ("治理期限", "{{ r.deadline }}"), ("逾期天数", "{{ r.days }} 天"), ("责任人", "{{ r.owner }}")])
    _sign_off(doc)
    _signatures(doc, [(f"签收人：{BLANK}", f"签收日期：{DATE_BLANK}")])
    _qr_block(doc, "{{ enterprise_qr }}", "{{ enterprise_qr_caption }}")
    _end(doc)


def major_report_template(doc) -> None:  # noqa: ANN001
    _loop(doc, "m in majors")
    _title(doc, "重大事故隐患报告")
    _para(doc)
    _para(doc, "{{ official.addressee }}：")
    _para(doc, "根据《安全生产事故隐患排查治理暂行规定》，现将我单位发现的重大事故隐患报告如下。", indent=True)
    _kv_table(doc, [("报告单位", "{{ enterprise.name }}"), ("统一社会信用代码", "{{ enterprise.uscc }}"),
                    ("隐患编号", "{{ m.number }}"), ("隐患名称", "{{ m.name }}"), ("隐患位置", "{{ m.location }}"),
                    ("发现日期", "{{ m.found_on }}"),
                    ("一、隐患的现状及其产生原因", "现状：{{ m.description }}\n原因：{{ m.cause }}"),
                    ("二、隐患的危害程度和整改难易程度分析", "{{ m.severity }}"),
                    ("三、隐患的治理方案", "{{ m.plan }}"),
                    ("治理期限", "{{ m.deadline }}"), ("治理资金", "{{ m.funds }}"), ("治理责任人", "{{ m.owner }}"),
                    ("是否停产停业", "{{ m.suspended }}"), ("是否挂牌督办 / 督办单位", "{{ m.supervised }}　{{ m.supervisor }}")],
              widths=(55, 115), size=10.5)
    _para(doc)
    _para(doc, f"报告单位（盖章）：{{{{ enterprise.name }}}}　　主要负责人（签字）：{BLANK}", size=11)
    _para(doc, "联系人：{{ official.contact }}　　联系电话：{{ official.phone }}", size=11)
    _para(doc, "{{ m.reported_on }}", align="right", right_indent=True)
    _qr_block(doc, "{{ enterprise_qr }}", "{{ enterprise_qr_caption }}")
    _end(doc)


def board_template(doc, paper: BoardPaper = BOARD_PAPERS["A4"]) -> None:  # noqa: ANN001
    """One page (A4, or A3 with a larger map and more rows): the map on the plant's layout, the major and
    significant risks, rewards, warning signs, emergency numbers, the QR code."""
    width = paper.width_mm - 2 * paper.margin_mm
    w = width / 186  # column widths against the A4 board's

    def widths(*mm: float) -> list[float]:
        return [round(x * w, 1) for x in mm]

    pt = paper.pt

    _title(doc, "安全风险公告栏", page_break=False, size=pt(18))
    _para(doc, "{{ enterprise.name }}", size=pt(14), align="center", font=TITLE_FONT)
    _para(doc, "一、风险四色分布图", size=pt(12), bold=True, font=TITLE_FONT)
    _para(doc, "{{ risk_map }}", align="center")
    _para(doc, "{%p for note in map_notes %}")
    _para(doc, "{{ note }}", size=pt(9))
    _para(doc, "{%p endfor %}")
    _para(doc, "二、重大风险和较大风险", size=pt(12), bold=True, font=TITLE_FONT)
    _loop_table(doc, ["风险点", "位置", "等级", "主要管控措施", "责任单位", "责任人", "联系电话"],
                ["{{ k.name }}", "{{ k.location }}", "{% cellbg k.colour %}{{r k.level_rt }}", "{{ k.controls }}",
                 "{{ k.unit }}", "{{ k.owner }}", "{{ k.phone }}"], widths(24, 22, 19, 55, 22, 16, 28), "k in key_risks",
                size=pt(BOARD_TABLE_PT))
    _para(doc, "{% if key_more %}另有 {{ key_more }} 处重大、较大风险，见风险管控清单。{% endif %}", size=pt(9))
    _para(doc, "三、奖惩考核（近 12 个月）", size=pt(12), bold=True, font=TITLE_FONT)
    _loop_table(doc, ["日期", "对象", "类别", "事由", "奖惩内容"],
                ["{{ w.date }}", "{{ w.target }}", "{{ w.kind }}", "{{ w.reason }}", "{{ w.measure }}"],
                widths(35, 30, 16, 61, 44), "w in rewards", size=pt(BOARD_TABLE_PT))
    _para(doc, "{% if rewards_more %}另有 {{ rewards_more }} 条奖惩考核记录，见奖惩考核记录台账。{% endif %}", size=pt(9))
    _para(doc, "四、警示标志设置（按区域）", size=pt(12), bold=True, font=TITLE_FONT)
    _para(doc, "{% for s in signs %}{{ s.location }}：{{ s.signs }}（{{ s.total }} 块）{% if not loop.last %}；{% endif %}"
               "{% endfor %}", size=pt(9))  # one paragraph, not a table: the board stays one page
    qr_cell = paper.qr_mm + 4
    table = _plain_table(doc, 1, [round(width - qr_cell, 1), qr_cell])
    lines = ["五、应急电话：火警 119　急救 120　报警 110　安全生产举报 12350",
             "企业电话：{{ enterprise.phone }}　主要负责人：{{ enterprise.principal }}　安全管理人员：{{ enterprise.safety_officer }}",
             "公告日期：{{ today }}　{{ enterprise_qr_caption }}"]
    cell = table.cell(0, 0)
    for i, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        _set_font(paragraph.add_run(line), TITLE_FONT if i == 0 else BODY_FONT, pt(11 if i == 0 else 10), i == 0)
    _cell(table.cell(0, 1), "{{ enterprise_qr }}", align="center")


def quarterly_template(doc) -> None:  # noqa: ANN001
    _title(doc, "隐患排查治理情况统计表", page_break=False)
    _para(doc, "（{{ period.label }}：{{ period.start }} 至 {{ period.end }}）", align="center")
    _para(doc, "填报单位：{{ enterprise.name }}")
    _para(doc, "统一社会信用代码：{{ enterprise.uscc }}")  # a line of its own: the code never wraps
    _para(doc, "所属县（市、区）：{{ enterprise.county }}　　行业领域：{{ enterprise.industry }}")
    _kv_table(doc, [("本季度排查发现隐患", "{{ stats.found }} 项（其中重大隐患 {{ stats.major_found }} 项）"),
                    ("本季度完成整改", "{{ stats.rectified }} 项（按期 {{ stats.rectified_on_time }} 项，逾期整改 {{ stats.rectified_late }} 项）"),
                    ("本季度发现隐患的整改率", "{{ stats.rate }}"),
                    ("季度末未整改隐患", "{{ stats.open_at_end }} 项（其中逾期 {{ stats.overdue_at_end }} 项，重大隐患 {{ stats.major_open_at_end }} 项）"),
                    ("重大隐患完成整改", "{{ stats.major_rectified }} 项"),
                    ("落实治理资金", "{{ stats.funds }} 元")], widths=(60, 110))
    _para(doc)
    _para(doc, "报送期限：{{ period.report_due }} 前报负有安全生产监督管理职责的部门。", size=10.5)
    _para(doc, "{{ period.status }}", size=10.5, bold=True)
    _para(doc, f"主要负责人签字：{BLANK}　　填报人：{{{{ enterprise.filled_by }}}}　　填报日期：{{{{ today }}}}")
    _para(doc, "联系人：{{ official.contact }}　　联系电话：{{ official.phone }}", size=11)
    _para(doc, "{{ enterprise.name }}（盖章）", align="right", right_indent=True)
    _qr_block(doc, "{{ enterprise_qr }}", "{{ enterprise_qr_caption }}")


_FILLS: dict[str, Callable] = {
    "cards": card_template, "duty_lists": duty_list_template, "notices": notice_template,
    "reminders": reminder_template, "majors": major_report_template, "board": board_template,
    "quarterly": quarterly_template,
}
TEMPLATES: dict[str, tuple[str, Callable]] = {k.key: (k.filename, _FILLS[k.key]) for k in KINDS}


def county_report_template(doc) -> None:  # noqa: ANN001
    who = dict(identity_columns())  # the enterprise's identity headers, as 企业信息 declares them
    _title(doc, "{{ title }}", page_break=False)
    _para(doc, "{{ official.number }}", align="center")
    _para(doc, "统计日期：{{ as_of }}", align="center")
    _para(doc, "一、总体情况", bold=True, font=TITLE_FONT, size=14)
    _para(doc, "应报送企业 {{ totals.expected }} 家，已报送 {{ totals.submitted }} 家（报送率 {{ totals.submission_rate }}），"
               "{{ totals.on_time_period }}统计按时报送 {{ totals.on_time }} 家；未报送 {{ missing }} 家。辨识风险点：重大风险 {{ totals.risks_major }} 处、"
               "较大风险 {{ totals.risks_significant }} 处、一般风险 {{ totals.risks_general }} 处、低风险 {{ totals.risks_low }} 处。"
               "排查隐患 {{ totals.hazards_total }} 项，未销号 {{ totals.hazards_open }} 项，其中逾期 {{ totals.hazards_overdue }} 项、"
               "重大隐患未销号 {{ totals.major_open }} 项；按期销号 {{ totals.closed_on_time }} 项，逾期销号 {{ totals.closed_late }} 项，"
               "销号率 {{ totals.closure_rate }}。双重预防体系未有效运行的企业 {{ totals.not_effective }} 家。", indent=True)
    _para(doc, "{{ risk_chart }}", align="center")
    _para(doc, "{{ hazard_chart }}", align="center")
    _para(doc, "{{ trend_chart }}", align="center")
    _para(doc, "二、各乡镇（街道）情况", bold=True, font=TITLE_FONT, size=14)
    _loop_table(doc, [who["township"], "应报", "已报", "报送率", "逾期隐患", "重大隐患未销号", "未有效运行", "销号率"],
                ["{{ g.name }}", "{{ g.expected }}", "{{ g.submitted }}", "{{ g.rate }}", "{{ g.overdue }}",
                 "{{ g.major_open }}", "{{ g.not_effective }}", "{{ g.closure }}"], [30, 16, 16, 20, 20, 24, 22, 20],
                "g in groups")
    _para(doc, "三、逾期未整改隐患", bold=True, font=TITLE_FONT, size=14)
    _loop_table(doc, [who["name"], "隐患名称", "位置", "治理期限", "逾期天数", "责任人"],
                ["{{ h.enterprise }}", "{{ h.name }}", "{{ h.location }}", "{{ h.deadline }}", "{{ h.days }}", "{{ h.owner }}"],
                [40, 34, 30, 24, 18, 22], "h in overdue")
    _para(doc, "{% if overdue_more %}另有 {{ overdue_more }} 项，见汇总表“逾期隐患”。{% endif %}", size=10.5)
    _para(doc, "四、重大事故隐患", bold=True, font=TITLE_FONT, size=14)
    _loop_table(doc, [who["name"], "隐患名称", "位置", "治理状态", "治理期限", "有治理方案"],
                ["{{ m.enterprise }}", "{{ m.name }}", "{{ m.location }}", "{{ m.status }}", "{{ m.deadline }}",
                 "{{ m.has_plan }}"], [40, 34, 30, 22, 24, 18], "m in majors")
    _para(doc, "五、建议重点检查企业（差异化执法）", bold=True, font=TITLE_FONT, size=14)
    _loop_table(doc, ["序号", who["name"], who["township"], who["industry"], "存在问题"],
                ["{{ e.no }}", "{{ e.name }}", "{{ e.township }}", "{{ e.industry }}", "{{ e.problems }}"],
                [12, 40, 26, 18, 74], "e in enforcement")
    _para(doc, "{% if enforcement_more %}另有 {{ enforcement_more }} 家，见汇总表“重点检查企业”。{% endif %}", size=10.5)
    _para(doc, "判定规则：", bold=True)
    _loop_table(doc, ["规则", "说明"], ["{{ r.name }}", "{{ r.text }}"], [30, 140], "r in rules")
    _para(doc)
    _para(doc, "{{ official.issuer }}（盖章）", align="right", right_indent=True)
    _para(doc, "{{ as_of }}", align="right", right_indent=True)
    _para(doc, "联系人：{{ official.contact }}　　联系电话：{{ official.phone }}", size=11)


REPORT_TEMPLATES: dict[str, tuple[str, Callable]] = {COUNTY_REPORT.key: (COUNTY_REPORT.filename, county_report_template)}


FIXED_TIME = datetime(2020, 9, 23)  # the guidance's date: rebuilt templates are byte-for-byte the same


def _slim(doc) -> None:  # noqa: ANN001
    """Drop what python-docx's blank document carries and no dpsheets document uses: the Word 2010 copy of
    the styles (stylesWithEffects.xml, 438 KB), a generic thumbnail, and the ~160 built-in styles that no
    paragraph or table names. Every render parsed, serialised and compressed 800 KB per document for nothing."""
    for owner in (doc.part, doc.part.package):
        for rid, rel in list(owner.rels.items()):
            if rel.reltype.endswith(("/stylesWithEffects", "/metadata/thumbnail")):
                del owner.rels[rid]
    styles = doc.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles.findall(qn("w:style"))}
    keep = {sid for sid, s in by_id.items() if s.get(qn("w:default")) in ("1", "true")}
    keep |= set(re.findall(r'w:(?:pStyle|rStyle|tblStyle) w:val="([^"]+)"', doc.element.xml))
    todo = list(keep)
    while todo:  # the styles a kept style is based on, continues with or is linked to
        style = by_id.get(todo.pop())
        for tag in ("w:basedOn", "w:next", "w:link"):
            ref = style.find(qn(tag)) if style is not None else None
            if ref is not None and ref.get(qn("w:val")) not in keep:
                keep.add(ref.get(qn("w:val")))
                todo.append(ref.get(qn("w:val")))
    for sid, style in by_id.items():
        if sid not in keep:
            styles.remove(style)


def _save(doc, title: str, target: Path) -> Path:  # noqa: ANN001
    """Save reproducibly and slim: fixed document properties and fixed zip entry times, unused parts dropped."""
    _slim(doc)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, "dpsheets", "dpsheets"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    buffer = io.BytesIO()
    doc.save(buffer)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(buffer) as src, atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME.timetuple()[:6]), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
    return target


def build_report(target: Path) -> Path:
    doc = _new_document()
    county_report_template(doc)
    return _save(doc, "双重预防体系汇总报告", target)


MARGINS = {"board": (12, 12), "cards": (18, 14)}  # (left/right, top/bottom) mm; the rest: 20, 18


def build(kind: str, target: Path) -> Path:
    filename, fill = TEMPLATES[kind]
    doc = _new_document(*MARGINS.get(kind, (20, 18)))
    fill(doc)
    return _save(doc, filename.removesuffix(".docx"), target)


# The board on other paper than A4: its own template file (a county may edit it like the others).
PAPER_TEMPLATES: dict[str, BoardPaper] = {p.filename: p for p in BOARD_PAPERS.values() if p.paper != "A4"}


def build_board(paper: BoardPaper, target: Path) -> Path:
    doc = _new_document(paper.margin_mm, paper.margin_mm, (paper.width_mm, paper.height_mm))
    board_template(doc, paper)
    return _save(doc, paper.filename.removesuffix(".docx"), target)


def build_all(directory: Path = TEMPLATES_DIR) -> list[Path]:
    built = [build(kind, directory / filename) for kind, (filename, _) in TEMPLATES.items()]
    built += [build_board(paper, directory / filename) for filename, paper in PAPER_TEMPLATES.items()]
    return [*built, build_report(directory / REPORT_TEMPLATES["county_report"][0])]


if __name__ == "__main__":
    for path in build_all():
        print(path)
        if EDITABLE_DIR.parent.joinpath("pyproject.toml").is_file():  # a source checkout: the user-facing copy too
            EDITABLE_DIR.mkdir(exist_ok=True)
            print(shutil.copyfile(path, EDITABLE_DIR / path.name))
