"""Printable Word documents: contract with the templates, content, QR codes, hostile text, broken templates, PDF."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import date, timedelta
from pathlib import Path

import docx
import pytest
import zxingcpp
from builders import AS_OF, valid_workbook
from click.testing import CliRunner
from docxtpl import DocxTemplate
from PIL import Image

from dpsheets.cli import cli
from dpsheets.config import Config, config_from_dict
from dpsheets.documents import qr
from dpsheets.documents.render import KINDS, _builders, _common, render_all, soffice, template_path
from dpsheets.documents.template_build import (
    PAPER_TEMPLATES,
    REPORT_TEMPLATES,
    TEMPLATES,
    TEMPLATES_DIR,
    build,
    build_board,
    build_report,
)
from dpsheets.rules.stats import Period
from dpsheets.workbook.reader import read_workbook
from dpsheets.workbook.samples import DEMO_USCC, plant
from dpsheets.workbook.template import write_workbook


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = valid_workbook(tmp_path_factory.mktemp("wb") / "plant.xlsx", posts=12, employees=20)
    return read_workbook(path)


@pytest.fixture(scope="module")
def rendered(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    outcome = render_all(data, out, as_of=AS_OF)
    assert outcome.errors == []
    return {p.name: p for p in outcome.files}


def _text(path: Path) -> str:
    d = docx.Document(path)
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _images(path: Path) -> list[Image.Image]:
    with zipfile.ZipFile(path) as z:
        return [Image.open(io.BytesIO(z.read(n))) for n in z.namelist() if n.startswith("word/media/")]


@pytest.mark.parametrize("kind", KINDS)
def test_every_template_variable_is_provided_by_the_context_builder(kind, data):
    tpl = DocxTemplate(str(template_path(kind, Config())))
    context = _builders(data, AS_OF, Config(), Period.quarter(2026, 3))[kind]()
    context.update(_common(tpl, data, AS_OF, Config()))
    if kind == "board":
        context["risk_map"] = context.pop("_map")
    assert tpl.get_undeclared_template_variables(context=context) == set()


@pytest.mark.parametrize("kind", [*KINDS, "county_report", *PAPER_TEMPLATES])
def test_repository_templates_are_not_stale(kind, tmp_path):
    if kind == "county_report":
        filename = REPORT_TEMPLATES[kind][0]
        fresh = build_report(tmp_path / filename)
    elif kind in PAPER_TEMPLATES:
        filename = kind
        fresh = build_board(PAPER_TEMPLATES[kind], tmp_path / filename)
    else:
        filename = TEMPLATES[kind][0]
        fresh = build(kind, tmp_path / filename)
    assert fresh.read_bytes() == (TEMPLATES_DIR / filename).read_bytes(), "run: python3 -m dpsheets.documents.template_build"


def test_cards_one_per_post_with_answers_and_qr(data, rendered):
    path = rendered["岗位告知卡.docx"]
    text = _text(path)
    posts = data.records("post")
    assert text.count("岗位风险隐患和紧急情况处置告知卡") == len(posts)
    for post in posts:
        assert post["duties"] in text and post["emergency"] in text
    assert "火警 119" in text and "舞阳县宏达机械配件有限公司" in text
    d = docx.Document(path)
    breaks = [p for p in d.paragraphs if p.paragraph_format.page_break_before]
    assert len(breaks) == len(posts)  # one card per page
    codes = [zxingcpp.read_barcodes(img) for img in _images(path)]
    payloads = {c[0].text for c in codes if c}
    assert any(f"岗位：{posts[0]['workshop']} {posts[0]['post']}" in p for p in payloads)


def test_card_header_is_coloured_by_the_post_level(rendered):
    xml = zipfile.ZipFile(rendered["岗位告知卡.docx"]).read("word/document.xml").decode()
    assert 'w:fill="FFC000"' in xml and 'w:fill="FFFF00"' in xml  # 较大 and 一般 posts in the sample
    assert 'w:eastAsia="黑体"' in xml and 'w:eastAsia="宋体"' in xml


def test_duty_list_one_per_employee_with_signature_lines(data, rendered):
    text = _text(rendered["岗位安全责任清单.docx"])
    assert text.count("本人已知晓以上岗位风险") == len(data.records("employee"))
    assert "员工签字：＿＿" in text and "None" not in text and "每人一张" not in text
    payloads = {c[0].text for img in _images(rendered["岗位安全责任清单.docx"]) if (c := zxingcpp.read_barcodes(img))}
    assert any("岗位：" in p for p in payloads) and "扫码显示：企业名称、统一社会信用代码、所属县区、岗位名称" in text


def _codes(path: Path) -> list[str]:
    """The text of every QR code in the document, in the order the images were added."""
    return [c[0].text for img in _images(path) if (c := zxingcpp.read_barcodes(img))]


def _drawings(path: Path) -> int:
    return zipfile.ZipFile(path).read("word/document.xml").decode().count("<w:drawing>")


def test_workshop_and_team_lists_carry_the_enterprise_code(data, rendered):
    """车间/班组 责任清单 name the enterprise: each page has its QR code, the caption saying what it holds."""
    from dpsheets.documents import context as ctx

    path = rendered["岗位安全责任清单.docx"]
    units, employees = ctx.unit_lists(data), data.records("employee")
    assert units  # the sample has workshops and teams
    text = _text(path)
    assert text.count("扫码显示：企业名称、统一社会信用代码、所属县区（一企一码）") == len(units)
    assert _drawings(path) == len(units) + len(employees)  # one code on every page
    payload = qr.enterprise_payload(data.enterprise["name"], data.enterprise["uscc"], data.enterprise["county"])
    assert payload in _codes(path)


def test_every_kind_with_an_enterprise_carries_a_code_saying_what_it_holds(tmp_path):
    """With the county's web service configured every code is a link and every caption says so."""
    p = plant(AS_OF, posts=2, employees=3, hazards=8)
    p.rows["hazard"][2].update(level="重大隐患")
    data = read_workbook(write_workbook(tmp_path / "p.xlsx", p.enterprise, p.rows, layout=p.layout))
    cfg = config_from_dict({"qr_base_url": "https://aq.example.cn/qy/", "qr_secret": "s3cret"})
    out = render_all(data, tmp_path / "o", as_of=AS_OF, config=cfg)
    assert out.errors == [] and len(out.files) == len(KINDS), out.skipped
    enterprise_url = "https://aq.example.cn/qy/e/" + qr.enterprise_token("s3cret", DEMO_USCC)
    for path in out.files:
        codes, text = _codes(path), _text(path)
        assert codes and all(c.startswith("https://aq.example.cn/qy/") for c in codes), path.name
        if path.name in ("岗位告知卡.docx", "岗位安全责任清单.docx"):
            assert qr.POST_CAPTION in text and any("/p/" in c for c in codes)
        if path.name != "岗位告知卡.docx":
            assert enterprise_url in codes and qr.ENTERPRISE_CAPTION in text, path.name
        assert "扫码显示" not in text, path.name  # no caption promises text the code does not hold


def test_unknown_post_is_a_data_error_not_a_blank_sheet(tmp_path):
    p = plant(AS_OF, posts=2, employees=3)
    p.rows["employee"][1]["post"] = "保安"
    data = read_workbook(write_workbook(tmp_path / "u.xlsx", p.enterprise, p.rows))
    out = render_all(data, tmp_path / "o", as_of=AS_OF, kinds=("duty_lists",))
    text = _text(out.files[0])
    assert text.count("本人已知晓以上岗位风险") == 2 and "保安" not in text
    assert any("“保安”不在岗位安全责任清单中" in e and "岗位人员!D" in e for e in out.errors)


def test_notices_list_only_hazards_to_fix_not_yet_overdue(data, rendered):
    path = rendered["隐患整改通知书.docx"]
    d = docx.Document(path)
    due = [h for h in data.records("hazard") if h["status"] in ("待整改", "整改中") and h["completed_on"] is None
           and not (h["deadline"] and h["deadline"] < AS_OF)]
    assert {h["status"] for h in data.records("hazard")} >= {"待验收", "整改中"}  # the sample has both kinds
    units = {h["unit"] for h in due}
    text = _text(path)
    assert text.count("隐患整改通知书") == len(units)
    listed = [row.cells[1].text for t in d.tables if t.rows[0].cells[1].text == "隐患编号" for row in t.rows[1:]]
    assert sorted(listed) == sorted(h["number"] for h in due)
    assert "隐患等级" in text and "整改〔2026〕1号" in text and "第01号" not in text
    assert "舞阳县宏达机械配件有限公司（盖章）" in text and "联系电话：13939512345" in text


def test_major_hazards_are_marked_in_the_notice(tmp_path):
    p = plant(AS_OF, posts=2, employees=2)
    p.rows["hazard"][2].update(level="重大隐患", deadline=AS_OF + timedelta(days=20), status="整改中", completed_on=None)
    data = read_workbook(write_workbook(tmp_path / "m.xlsx", p.enterprise, p.rows))
    out = render_all(data, tmp_path / "o", as_of=AS_OF, kinds=("notices",))
    assert "★重大隐患" in _text(out.files[0]) and "其中重大事故隐患 1 项" in _text(out.files[0])


def test_overdue_reminders_state_days_overdue(data, rendered):
    text = _text(rendered["逾期催办通知.docx"])
    assert "12 天" in text and "5 天" in text and "催办〔2026〕1号" in text


def test_official_form_is_configurable(data, tmp_path):
    cfg = config_from_dict({"official": {"issuer": "宏达机械安全生产委员会", "addressee": "舞阳县应急管理局",
                                         "contact": "赵六", "phone": "0395-7123119", "number_prefix": "宏安"}})
    out = render_all(data, tmp_path / "o", as_of=AS_OF, config=cfg, kinds=("notices", "majors"))
    notice, major = (_text(f) for f in out.files)
    assert "宏达机械安全生产委员会（盖章）" in notice and "宏安整改〔2026〕1号" in notice and "0395-7123119" in notice
    assert "舞阳县应急管理局：" in major and "联系人：赵六" in major and "报告单位（盖章）" in major


def test_major_report_has_the_three_items(rendered):
    text = _text(rendered["重大事故隐患报告.docx"])
    for heading in ("隐患的现状及其产生原因", "危害程度和整改难易程度", "隐患的治理方案"):
        assert heading in text
    assert "排风机长期超负荷运行" in text


def test_board_has_the_map_image_and_key_risks(data, rendered):
    path = rendered["风险公告栏.docx"]
    text = _text(path)
    assert "喷漆房" in text and "重大风险" in text
    sizes = [img.size for img in _images(path)]
    assert any(w > 600 for w, _ in sizes), "the four-colour map is embedded"


def test_quarterly_statistics(rendered):
    name = next(n for n in rendered if n.startswith("季度隐患统计表"))
    assert name == "季度隐患统计表_2026Q3.docx"
    text = _text(rendered[name])
    assert "2026年第三季度" in text and "2026年10月15日" in text
    assert "（盖章）" in text and "扫码显示：企业名称、统一社会信用代码、所属县区" in text  # its QR and what it holds


def test_qr_round_trip_text_and_url():
    payload = qr.enterprise_payload("宏达机械", "91411121MA9KXD3R0", "舞阳县")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.png(payload))))
    assert decoded[0].text == payload
    url = qr.post_payload("宏达机械", "91411121MA9KXD3R0", "舞阳县", "冲压车间", "冲床工", "https://aq.example.cn/qy", "s3cret")
    assert url == "https://aq.example.cn/qy/p/" + qr.post_token("s3cret", "91411121MA9KXD3R0", "冲压车间", "冲床工")
    assert "91411121" not in url and len(url.rsplit("/", 1)[1]) == 16
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.png(url))))[0].text == url
    # stable for the same secret, different under another secret, different per post
    assert url == qr.post_payload("x", "91411121MA9KXD3R0", "y", "冲压车间", "冲床工", "https://aq.example.cn/qy/", "s3cret")
    assert qr.post_token("other", "91411121MA9KXD3R0", "冲压车间", "冲床工") not in url
    assert qr.post_token("s3cret", "91411121MA9KXD3R0", "冲压车间", "剪板工") not in url
    # a base URL without the archive's secret prints readable text, never the credit code in a URL
    assert qr.post_payload("宏达机械", "91411121MA9KXD3R0", "舞阳县", "冲压车间", "冲床工", "https://aq.example.cn/qy").startswith("一企一码")


def test_qr_uses_configured_base_url(tmp_path):
    path = valid_workbook(tmp_path / "p.xlsx", posts=2, employees=2)
    cfg = config_from_dict({"qr_base_url": "https://aq.example.cn/qy/", "qr_secret": "s3cret"})
    out = render_all(read_workbook(path), tmp_path / "o", as_of=AS_OF, config=cfg, kinds=("board", "cards"))
    board, cards = out.files
    texts = [c[0].text for img in _images(board) if (c := zxingcpp.read_barcodes(img))]
    assert texts == ["https://aq.example.cn/qy/e/" + qr.enterprise_token("s3cret", DEMO_USCC)]
    assert qr.ENTERPRISE_CAPTION in _text(board)
    card_urls = {c[0].text for img in _images(cards) if (c := zxingcpp.read_barcodes(img))}
    assert len(card_urls) == 2 and all(u.startswith("https://aq.example.cn/qy/p/") for u in card_urls)
    assert qr.POST_CAPTION in _text(cards)


HOSTILE = 'A<B & "C" \'D\' > E\n第二行 𠮷 ＜＞ \x07铃 {{ x }} {% if %}' + "很长" * 400


def test_hostile_text_stays_valid_and_exact(tmp_path):
    p = plant(AS_OF, posts=2, employees=2, hazards=3)
    p.rows["post"][0]["duties"] = HOSTILE
    p.rows["post"][0]["procedure"] = None
    p.rows["procedure"] = []  # no 岗位操作规程 content either
    path = write_workbook(tmp_path / "h.xlsx", p.enterprise, p.rows)
    out = render_all(read_workbook(path), tmp_path / "o", as_of=AS_OF, kinds=("cards",))
    assert out.errors == []
    text = _text(out.files[0])
    assert 'A<B & "C" \'D\' > E' in text and "第二行 𠮷 ＜＞" in text and "{{ x }} {% if %}" in text
    assert "很长" * 400 in text and "\x07" not in text
    assert "None" not in text and "＿＿＿＿＿＿" in text  # the blank 操作规程 is a line to fill by hand


def _break_template(src: Path, dst: Path, old: str, new: str) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.decode().replace(old, new, 1).encode()
            zout.writestr(item, data)


def test_broken_templates_are_named_and_others_still_written(data, tmp_path):
    folder = tmp_path / "county"
    folder.mkdir()
    for filename, _ in TEMPLATES.values():
        shutil.copy(TEMPLATES_DIR / filename, folder / filename)
    _break_template(TEMPLATES_DIR / "岗位告知卡.docx", folder / "岗位告知卡.docx", "{{ card.duties }}", "{{ card.dutiez }}")
    _break_template(TEMPLATES_DIR / "隐患整改通知书.docx", folder / "隐患整改通知书.docx",
                    "{{ n.unit }}", "{{ n.unit </w:t></w:r><w:r><w:t>")
    cfg = config_from_dict({"templates_dir": str(folder)})
    out = render_all(data, tmp_path / "o", as_of=AS_OF, config=cfg)
    assert len(out.errors) == 2
    cards_error = next(e for e in out.errors if "岗位告知卡" in e)
    assert "dutiez" in cards_error
    notice_error = next(e for e in out.errors if "隐患整改通知书" in e)
    assert "标签" in notice_error
    written = {p.name for p in out.files}
    assert "岗位安全责任清单.docx" in written and "风险公告栏.docx" in written
    assert "岗位告知卡.docx" not in written


def test_split_writes_one_file_per_item(data, tmp_path):
    out = render_all(data, tmp_path / "o", as_of=AS_OF, kinds=("cards",), split=True)
    singles = [p for p in out.files if p.parent.name == "岗位告知卡"]
    assert len(singles) == len(data.records("post"))
    assert _text(singles[0]).count("处置告知卡") == 1


def test_nothing_to_print_is_skipped_not_an_error(tmp_path):
    p = plant(AS_OF, hazards=2, posts=2, employees=2)
    path = write_workbook(tmp_path / "p.xlsx", p.enterprise, p.rows)
    out = render_all(read_workbook(path), tmp_path / "o", as_of=AS_OF, kinds=("majors",))
    assert out.files == [] and out.errors == [] and out.skipped


def test_docs_command(tmp_path):
    path = valid_workbook(tmp_path / "厂.xlsx", posts=3, employees=3)
    result = CliRunner().invoke(cli, ["docs", str(path), "-o", str(tmp_path / "打印"), "--as-of", "2026-11-28",
                                      "--quarter", "2026Q4", "--only", "cards", "--only", "quarterly"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "打印").iterdir()} == {"岗位告知卡.docx", "季度隐患统计表_2026Q4.docx"}


needs_libreoffice = pytest.mark.skipif(soffice() is None or shutil.which("pdftotext") is None,
                                       reason="LibreOffice and poppler-utils are not installed")


@needs_libreoffice
def test_pdf_has_chinese_text_and_right_page_count(data, tmp_path):
    out = render_all(data, tmp_path / "o", as_of=AS_OF, kinds=("cards", "notices"), pdf=True)
    assert out.errors == []
    pdfs = {p.name: p for p in out.files if p.suffix == ".pdf"}
    cards = pdfs["岗位告知卡.pdf"]
    text = subprocess.run(["pdftotext", str(cards), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("岗位风险隐患和紧急情况处置告知卡") == len(data.records("post"))
    info = subprocess.run(["pdfinfo", str(cards)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages == len(data.records("post"))  # one card per page, no blank pages
    notice = subprocess.run(["pdftotext", str(pdfs["隐患整改通知书.pdf"]), "-"], capture_output=True, text=True).stdout
    assert "隐患整改通知书" in notice and "整改期限" in notice


def test_missing_libreoffice_is_explained(monkeypatch, data, tmp_path):
    monkeypatch.setattr("dpsheets.documents.render.soffice", lambda: None)
    out = render_all(data, tmp_path / "o", as_of=AS_OF, kinds=("board",), pdf=True)
    assert any("未安装 LibreOffice" in e for e in out.errors)
    assert [p.suffix for p in out.files] == [".docx"]


def test_period_quarters():
    assert Period.quarter(2026, 4).end == date(2026, 12, 31)
    assert Period.last_complete_quarter(date(2026, 11, 28)) == Period.quarter(2026, 3)
    assert Period.last_complete_quarter(date(2026, 12, 31)) == Period.quarter(2026, 4)


def test_the_fast_template_writes_what_docxtpl_writes(data, tmp_path, monkeypatch):
    """fasttpl.Template (compiled template kept, line breaks resolved only where there are any) gives the
    very XML plain docxtpl gives, for every kind."""
    from dpsheets.documents import render

    fast = render_all(data, tmp_path / "fast", as_of=AS_OF)
    monkeypatch.setattr(render, "Template", lambda path: DocxTemplate(str(path)))
    plain = render_all(data, tmp_path / "plain", as_of=AS_OF)
    assert [f.name for f in fast.files] == [f.name for f in plain.files] and len(fast.files) == len(KINDS)
    for a, b in zip(fast.files, plain.files, strict=True):
        with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
            assert za.read("word/document.xml") == zb.read("word/document.xml"), a.name
    assert b"<w:br/>" in zipfile.ZipFile(fast.files[0]).read("word/document.xml")  # the cards' line breaks resolved


def test_a3_board_is_an_a3_page_with_a_larger_map(data, tmp_path):
    from docx.shared import Mm

    from dpsheets.documents.kinds import BOARD_PAPERS

    cfg = config_from_dict({"print": {"paper": "A3"}})
    a4 = render_all(data, tmp_path / "a4", as_of=AS_OF, kinds=("board",)).files[0]
    a3 = render_all(data, tmp_path / "a3", as_of=AS_OF, config=cfg, kinds=("board",)).files[0]
    assert a3.name == a4.name == "风险公告栏.docx"
    section = docx.Document(a3).sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (297, 420)
    assert round(docx.Document(a4).sections[0].page_width.mm) == 210

    def extent(path: Path) -> int:  # the map is the widest picture
        return max(s.width for s in docx.Document(path).inline_shapes)

    assert extent(a3) > 1.5 * extent(a4) and extent(a3) <= Mm(BOARD_PAPERS["A3"].map_width_mm) + 1
    assert max(img.size[0] for img in _images(a3)) > 1.5 * max(img.size[0] for img in _images(a4))  # drawn, not stretched


def test_paper_is_validated_and_given_on_the_command_line(tmp_path):
    from dpsheets.errors import DpsheetsError

    with pytest.raises(DpsheetsError) as exc:
        config_from_dict({"print": {"paper": "B5"}}, source="dpsheets.toml")
    assert str(exc.value) == "dpsheets.toml：[print] 中的 paper 应为“A4”或“A3”，而不是 文字 \"B5\"。"
    path = valid_workbook(tmp_path / "厂.xlsx", posts=2, employees=2)
    result = CliRunner().invoke(cli, ["docs", str(path), "-o", str(tmp_path / "打印"), "--as-of", "2026-11-28",
                                      "--only", "board", "--paper", "a3"])
    assert result.exit_code in (0, 1), result.output
    assert round(docx.Document(tmp_path / "打印" / "风险公告栏.docx").sections[0].page_height.mm) == 420
    bad = CliRunner().invoke(cli, ["docs", str(path), "--paper", "B5"])
    assert bad.exit_code == 2 and "B5" in bad.output
