"""Printing as a clerk prints: every document kind of the demo plant through LibreOffice to PDF, checked page by page.

Runs wherever LibreOffice and poppler-utils are installed; in CI (CI=true) their absence is a failure,
not a skip (.ci/run installs them). A page image of each kind is kept in test-output/print/ for a
reviewer to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from builders import AS_OF

from dpsheets.config import Config, config_from_dict
from dpsheets.documents import context as ctx
from dpsheets.documents import fonts, riskmap
from dpsheets.documents.kinds import BOARD_PAPERS
from dpsheets.documents.render import KINDS, render_all, soffice
from dpsheets.workbook.reader import read_workbook
from dpsheets.workbook.samples import plant
from dpsheets.workbook.template import write_workbook

TOOLS = ("pdftotext", "pdfinfo", "pdffonts", "pdftoppm")
HAVE_TOOLS = soffice() is not None and all(shutil.which(t) for t in TOOLS)
OUTPUT = Path(__file__).resolve().parents[1] / "test-output" / "print"

if not HAVE_TOOLS:
    if os.environ.get("CI") == "true":
        pytest.fail("CI must install LibreOffice and poppler-utils for the print tests (.ci/run)", pytrace=False)
    pytest.skip("LibreOffice and poppler-utils are not installed", allow_module_level=True)


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def _lines(pdf: Path) -> list[str]:
    """The PDF's text lines, with the spaces pdftotext puts between digits and Chinese removed."""
    return [re.sub(r"\s+", "", line) for line in _run("pdftotext", str(pdf), "-").splitlines()]


def _pages(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(pdf)), re.M).group(1))


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The demo plant (with its typical mistakes), every kind rendered and converted to PDF in one LibreOffice run."""
    folder = tmp_path_factory.mktemp("print")
    p = plant(AS_OF, mistakes=True, posts=3, employees=8)
    data = read_workbook(write_workbook(folder / "demo.xlsx", p.enterprise, p.rows, layout=p.layout))
    out = render_all(data, folder / "打印", as_of=AS_OF, kinds=KINDS, pdf=True)
    pdfs = {f.stem.split("_")[0]: f for f in out.files if f.suffix == ".pdf"}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, pdf in pdfs.items():  # a page image of each kind, for a reviewer's eyes
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf), str(OUTPUT / name)], check=True, timeout=60)
    return data, out, pdfs


def test_every_kind_converts_with_one_page_per_item(printed):
    data, out, pdfs = printed
    assert len(pdfs) == len(KINDS), out.errors
    employees_with_posts = len(data.records("employee")) - 1  # the planted 保安 is a data error, not a sheet
    assert any("保安" in e for e in out.errors)
    expected = {"岗位告知卡": len(data.records("post")),
                "岗位安全责任清单": len(ctx.unit_lists(data)) + employees_with_posts,  # workshops and teams, then people
                "隐患整改通知书": len(ctx.notices(data, AS_OF)), "逾期催办通知": len(ctx.reminders(data, AS_OF, Config())),
                "重大事故隐患报告": len(ctx.majors(data)), "风险公告栏": 1, "季度隐患统计表": 1}
    assert {name: _pages(pdf) for name, pdf in pdfs.items()} == expected
    for name in expected:
        assert (OUTPUT / f"{name}.png").stat().st_size > 5000


def test_the_chinese_face_is_embedded_never_a_missing_glyph(printed):
    _, _, pdfs = printed
    substitutes = fonts.office_substitutes()
    assert all(family.endswith(" SC") for family in substitutes.values())  # LibreOffice is told the Simplified face
    for pdf in pdfs.values():
        listing = _run("pdffonts", str(pdf)).splitlines()[2:]
        chinese = [line for line in listing if re.search(r"NotoS(ans|erif)SC", line)]
        assert chinese and all(" yes " in line for line in chinese), listing  # embedded, by name Simplified Chinese
        assert not any("CJKjp" in line or "CJKkr" in line for line in listing), listing
        text = _run("pdftotext", str(pdf), "-")
        assert "\ufffd" not in text and re.search(r"[\u4e00-\u9fff]", text)


def test_codes_dates_phones_and_levels_never_wrap(printed):
    data, _, pdfs = printed
    notice_lines = _lines(pdfs["隐患整改通知书"])
    for n in ctx.notices(data, AS_OF):
        for h in n["hazards"]:
            assert h["number"] in notice_lines, f"{h['number']} is split"
            assert h["short_deadline"] in notice_lines, f"{h['short_deadline']} is split"
        assert n["number"] in notice_lines
    assert "序号" in notice_lines and "隐患等级" in notice_lines and "整改期限" in notice_lines
    board_lines = _lines(pdfs["风险公告栏"])
    _, key = ctx.board(data, Config())
    for k in key[:BOARD_PAPERS["A4"].key_rows]:
        assert k["short_level"] in board_lines
        if k["phone"]:
            assert k["phone"] in board_lines, f"{k['phone']} is split"
    major_lines = _lines(pdfs["重大事故隐患报告"])
    assert data.enterprise["uscc"] in major_lines


def test_the_map_speaks_chinese_only(printed):
    data, _, _ = printed
    risk_map, _ = ctx.board(data, Config())
    svg = riskmap.draw(risk_map, "", "svg").decode()
    texts = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>.*?</text>", svg, re.S)]
    words = " ".join(texts)
    assert "机加工车间" in words and "重大风险（红）1 处" in words.replace("\n", "")
    assert not re.search(r"[A-Za-z]{2,}", words), words
    assert not re.search(r"\bn=", words)


def _pdf_of(path: Path, profile: Path) -> Path:
    subprocess.run([soffice(), "--headless", "--norestore", f"-env:UserInstallation=file://{profile}", "--convert-to", "pdf",
                    "--outdir", str(path.parent), str(path)], check=True, capture_output=True, timeout=120)
    return path.with_suffix(".pdf")


def _page_lines(pdf: Path) -> list[list[str]]:
    return [[re.sub(r"\s+", "", line) for line in _run("pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-").splitlines()]
            for i in range(1, _pages(pdf) + 1)]


def _word_heights(pdf: Path, page: int) -> list[float]:
    boxes = _run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-")
    return [float(b) - float(a) for a, b in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', boxes)]


def test_the_workbook_prints_readably(tmp_path):
    p = plant(AS_OF, posts=4, employees=4)
    pdf = _pdf_of(write_workbook(tmp_path / "台账.xlsx", p.enterprise, p.rows, layout=p.layout), tmp_path / "lo")
    pages = _page_lines(pdf)
    assert "双重预防体系台账填表说明" in pages[0]  # the title whole, not clipped
    hazard_pages = [i for i, lines in enumerate(pages, start=1)
                    if ("隐患编号" in lines or "上报日期" in lines) and not any("（必填）" in line for line in lines)]
    assert len(hazard_pages) == 2, hazard_pages  # the 28-column register: two pages wide
    for page in hazard_pages:
        heights = _word_heights(pdf, page)
        assert heights and min(heights) >= 7.9, min(heights)  # 10 pt text printed at no less than 8 pt
    assert sum(1 for lines in pages if any(line.startswith("风险四色分布图") for line in lines)) == 1
    OUTPUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", "-f", str(hazard_pages[0]), str(pdf),
                    str(OUTPUT / "台账_隐患排查治理清单")], check=True, timeout=60)


@pytest.fixture(scope="module")
def county_summary(tmp_path_factory):
    """A county of three enterprises that first submitted six weeks ago: the months before have no data."""
    from datetime import datetime, timedelta

    from dpsheets.county.archive import Archive
    from dpsheets.county.rollup import rollup_archives
    from dpsheets.pipeline import check
    from dpsheets.workbook.samples import valid_uscc

    folder = tmp_path_factory.mktemp("county")
    with Archive(folder / "档案.sqlite") as archive:
        for i in range(3):
            received = datetime.combine(AS_OF - timedelta(days=40 + i), datetime.min.time())
            p = plant(received.date(), seed=i, uscc=valid_uscc(f"9141112100{i:07d}"), name=f"企业{i}", posts=2, employees=2)
            path = write_workbook(folder / f"{i}.xlsx", p.enterprise, p.rows, layout=p.layout)
            data, report = check(path, received.date())
            archive.add_submission(data, report, file_name=path.name, sha256=str(i), received_at=received)
    return folder, rollup_archives([folder / "档案.sqlite"], as_of=AS_OF)


def test_no_data_is_a_gap_in_the_trend_never_zero(county_summary):
    from dpsheets.county.summary_book import NO_DATA, write_summary
    from dpsheets.county.summary_read import read_summary

    folder, rollup = county_summary
    months = list(rollup.trend)
    assert rollup.trend[months[0]] is None and rollup.trend[months[-1]] is not None
    book = write_summary(rollup, folder / "汇总.xlsx", "舞阳县汇总")
    import openpyxl

    ws = openpyxl.load_workbook(book)["总览"]
    cells = {ws.cell(row=r, column=4).value: ws.cell(row=r, column=5).value for r in range(17, 17 + len(months))}
    assert cells[months[0]] == NO_DATA and cells[months[-1]] == rollup.trend[months[-1]]
    assert read_summary(book).trend == rollup.trend  # a city roll-up keeps the gap


def test_the_summary_prints_its_overview_on_one_page_and_the_report_in_form(county_summary, tmp_path):
    from dpsheets.config import OfficialForm
    from dpsheets.county.summary_book import write_summary
    from dpsheets.county.summary_report import _charts, write_report

    folder, rollup = county_summary
    for name, svg in _charts(rollup, "svg").items():
        texts = " ".join(re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>.*?</text>", svg.decode(), re.S))
        assert re.search(r"[\u4e00-\u9fff]", texts) and not re.search(r"[A-Za-z]{2,}", texts), (name, texts)
    trend_svg = _charts(rollup, "svg")["trend_chart"].decode()
    line = max(re.findall(r'<path d="(M[^"]+)"[^>]*style="fill: none; stroke: #c00000', trend_svg), key=len)
    assert line.count("L") == sum(1 for n in rollup.trend.values() if n is not None) - 1  # no line through the months without data
    book = _pdf_of(write_summary(rollup, tmp_path / "汇总.xlsx", "舞阳县汇总"), tmp_path / "lo")
    overview = [lines for lines in _page_lines(book) if any(line.startswith("统计日期") for line in lines)]
    assert len(overview) == 1 and any("逾期隐患月度趋势" in line for line in overview[0])  # charts on the same page
    form = OfficialForm(report_number="舞应急〔2026〕15号", county_contact="张科长", county_phone="0395-7212345")
    report = write_report(rollup, tmp_path / "汇总报告.docx", "舞阳县汇总报告", form)
    pdf = _pdf_of(report, tmp_path / "lo")
    lines = _lines(pdf)
    assert "舞应急〔2026〕15号" in lines and "舞阳县应急管理局（盖章）" in lines
    assert any("0395-7212345" in line for line in lines)
    OUTPUT.mkdir(parents=True, exist_ok=True)  # also when this test runs on its own
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf), str(OUTPUT / "汇总报告")], check=True, timeout=60)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(book), str(OUTPUT / "汇总_总览")], check=True, timeout=60)


def _page_size_mm(pdf: Path) -> tuple[int, int]:
    w, h = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", _run("pdfinfo", str(pdf)), re.M).groups()
    return round(float(w) / 72 * 25.4), round(float(h) / 72 * 25.4)


def test_the_a3_board_is_one_a3_page_with_the_chinese_face(tmp_path):
    """[print] paper = "A3": the 公告栏 is one A3 page (297 × 420 mm), the map larger, the Simplified face embedded."""
    p = plant(AS_OF, mistakes=True, posts=3, employees=8)
    data = read_workbook(write_workbook(tmp_path / "demo.xlsx", p.enterprise, p.rows, layout=p.layout))
    config = config_from_dict({"print": {"paper": "A3"}})
    out = render_all(data, tmp_path / "A3", as_of=AS_OF, kinds=("board",), pdf=True, config=config)
    pdf = next(f for f in out.files if f.suffix == ".pdf")
    assert out.errors == [] and _pages(pdf) == 1
    assert _page_size_mm(pdf) == (297, 420)
    listing = _run("pdffonts", str(pdf)).splitlines()[2:]
    assert any(re.search(r"NotoSansSC", line) and " yes " in line for line in listing), listing
    assert not any("CJKjp" in line for line in listing), listing
    lines = _lines(pdf)
    _, key = ctx.board(data, config)
    for k in key[:BOARD_PAPERS["A3"].key_rows]:
        assert k["short_level"] in lines and (not k["phone"] or k["phone"] in lines)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "45", "-png", "-singlefile", str(pdf), str(OUTPUT / "风险公告栏_A3")], check=True, timeout=60)


def test_the_workbook_on_a3_prints_wide_registers_one_page_wide(tmp_path):
    p = plant(AS_OF, posts=4, employees=4)
    book = write_workbook(tmp_path / "台账.xlsx", p.enterprise, p.rows, layout=p.layout, paper="A3")
    pdf = _pdf_of(book, tmp_path / "lo")
    pages = _page_lines(pdf)
    for header in ("隐患编号", "风险点名称"):  # the 28-column hazard register and the 20-column risk register
        found = [i for i, lines in enumerate(pages, start=1) if header in lines and not any("（必填）" in line for line in lines)]
        assert len(found) == 1, (header, found)  # one page wide (and the sample is short)
        page = found[0]
        info = _run("pdfinfo", "-f", str(page), "-l", str(page), str(pdf))
        w, h = re.search(rf"^Page\s+{page} size:\s+([\d.]+) x ([\d.]+)", info, re.M).groups()
        assert (round(float(w) / 72 * 25.4), round(float(h) / 72 * 25.4)) == (420, 297)  # A3 landscape
        heights = _word_heights(pdf, page)
        assert heights and min(heights) >= 7.9, min(heights)  # 10 pt text at no less than 8 pt
    numbers = [h["number"] for h in p.rows["hazard"] if h.get("number")]
    all_lines = [line for lines in pages for line in lines]
    assert all(n in all_lines for n in numbers)  # codes whole on one line
    subprocess.run(["pdftoppm", "-r", "45", "-png", "-singlefile", "-f", str(found[0]), str(pdf),
                    str(OUTPUT / "台账_A3_风险管控清单")], check=True, timeout=60)


@pytest.mark.parametrize("paper", ["A4", "A3"])
def test_a_year_of_rewards_keeps_the_board_on_one_page(tmp_path, paper):
    """30 奖惩考核 in the last 12 months: the board lists the newest its paper has room for, counts the rest,
    and stays one page."""
    p = plant(AS_OF, mistakes=True, posts=3, employees=8)
    p.rows["reward"] = [{"date": AS_OF - timedelta(days=5 + 10 * i), "target": f"第{i + 1}班组", "kind": "奖励",
                         "reason": "当月无违章作业，隐患自查自改及时", "measure": "通报表扬并奖励 200 元"} for i in range(30)]
    data = read_workbook(write_workbook(tmp_path / "demo.xlsx", p.enterprise, p.rows, layout=p.layout))
    config = config_from_dict({"print": {"paper": paper}})
    out = render_all(data, tmp_path / paper, as_of=AS_OF, kinds=("board",), pdf=True, config=config)
    pdf = next(f for f in out.files if f.suffix == ".pdf")
    room = BOARD_PAPERS[paper].reward_rows
    text = "".join(_lines(pdf))
    assert out.errors == [] and _pages(pdf) == 1
    assert f"另有{30 - room}条奖惩考核记录" in text
    assert "第1班组" in text and f"第{room}班组" in text and f"第{room + 1}班组" not in text  # the newest first
