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
from pathlib import Path

import pytest
from builders import AS_OF

from dpsheets.config import Config
from dpsheets.documents import context as ctx
from dpsheets.documents import fonts, riskmap
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
    p = plant(AS_OF, mistakes=True, posts=6, employees=8)
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
        listing = _run("pdffonts", str(pdf))
        cjk = [line for line in listing.splitlines() if "CJK" in line or "SC" in line.split()[0]]
        assert cjk and all(" yes " in line for line in cjk), listing
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
    for k in key[:ctx.KEY_RISK_LIMIT]:
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
