"""A worker's phone, for real: Chromium (Debian's ``chromium`` driven by Playwright) at a phone-sized
viewport against ``dpsheets serve``'s app under uvicorn on 127.0.0.1.

The demo workbook is archived by ``dpsheets ingest``; ``dpsheets docs --archive`` prints its cards with
``qr_base_url`` pointing at the test server; the QR code is decoded from the card's image (zxing-cpp); the
browser opens that URL, answers the five questions like a worker (the option that the card shows), and the
confirmation is found in the archive and in a fresh roll-up. It runs on both engines: the archive is an SQLite
file in the watch folder, or a schema of its own on the PostgreSQL server of the tests. Each page's screenshot is
saved in ``test-output/browser/ENGINE/`` (and looked at by a person when the pages change).

Without chromium (or PostgreSQL) the test is skipped on a developer's machine, but fails when CI=true (``.ci/run``
installs both).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
import zxingcpp
from click.testing import CliRunner
from conftest import pg_schema_url
from PIL import Image

from dpsheets.cli import cli
from dpsheets.county import users
from dpsheets.county.archive import Archive
from dpsheets.county.rollup import rollup_archives
from dpsheets.workbook.samples import DEMO_USCC, plant
from dpsheets.workbook.template import write_workbook

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "browser"
PASSWORD = "browser test password"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update"]

def _require_browser() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package"
    else:
        missing = "" if CHROMIUM else "chromium (apt-get install chromium)"
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the real-browser test: {missing} is not installed (see .ci/run)")
        pytest.skip(f"{missing} is not installed")
    assert CHROMIUM is not None
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _qr_urls(docx: Path) -> list[str]:
    """The QR payloads found in the images of a Word file."""
    urls = []
    with zipfile.ZipFile(docx) as z:
        for name in z.namelist():
            if name.startswith("word/media/"):
                for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(z.read(name)))):
                    urls.append(code.text)
    return urls


class Served:
    def __init__(self, folder: Path, archive: Path | str, shots: Path, base: str, server, thread,  # noqa: ANN001
                 cards: Path, board: Path) -> None:
        self.folder, self.archive, self.shots, self.base = folder, archive, shots, base
        self.server, self.thread, self.cards, self.board = server, thread, cards, board


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    import uvicorn

    from dpsheets.web.app import create_app

    _require_browser()
    tmp = tmp_path_factory.mktemp("browser")
    today = date.today()
    run = CliRunner().invoke
    sample = plant(today, mistakes=True)  # the demo's workbook, as `dpsheets demo` writes it
    workbook = write_workbook(tmp / "示例台账_宏达机械.xlsx", sample.enterprise, sample.rows, layout=sample.layout)
    folder = tmp / "舞阳县"
    archive: Path | str = folder / "档案.sqlite"
    if request.param == "postgresql":
        archive = pg_schema_url(request.getfixturevalue("pg_database"))
    (folder / "收件箱").mkdir(parents=True)
    shutil.copy(workbook, folder / "收件箱" / workbook.name)
    r = run(cli, ["ingest", str(folder), "--no-docs", "--archive", str(archive)])
    assert r.exit_code == 0, r.output
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    (tmp / "dpsheets.toml").write_text(f'qr_base_url = "{base}"\n', encoding="utf-8")
    printed = tmp / "打印"
    r = run(cli, ["docs", str(workbook), "--archive", str(archive if request.param == "postgresql" else folder), "--config", str(tmp / "dpsheets.toml"),
                  "--only", "cards", "--only", "board", "-o", str(printed)])
    assert r.exit_code in (0, 1), r.output
    with Archive(archive) as a:
        users.add(a, "wuyang", PASSWORD, "舞阳县", now=datetime.now())
    app = create_app(archive, folder=folder)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    shots = SHOTS / request.param
    shots.mkdir(parents=True, exist_ok=True)
    yield Served(folder, archive, shots, base, server, thread, next(printed.glob("岗位告知卡*.docx")),
                 next(printed.glob("风险公告栏*.docx")))
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def phone(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True,
            locale="zh-CN", user_agent="Mozilla/5.0 (Linux; Android 12; Phone) AppleWebKit/537.36 (KHTML, like Gecko) "
                                       "Chrome/120 Mobile Safari/537.36 MicroMessenger/8.0.44")
        yield context
        context.close()
        browser.close()


def _answer(page, right: bool = True) -> None:  # noqa: ANN001
    for key in ("duties", "hazards", "triggers", "controls", "emergency"):
        card = page.inner_text(f"#card-{key}").strip()
        labels = page.locator(f"#q-{key} label.opt")
        texts = [t.strip() for t in labels.all_inner_texts()]
        pick = texts.index(card) if right or key != "controls" else next(i for i, t in enumerate(texts) if t != card)
        labels.nth(pick).click()


def test_worker_scans_the_card_and_confirms_on_a_phone(served, phone):
    urls = _qr_urls(served.cards)
    post_urls = [u for u in urls if u.startswith(served.base + "/p/")]
    assert post_urls and len(post_urls) == len(urls), "every card's code opens the service"
    assert all(DEMO_USCC not in u for u in post_urls)
    sample = plant(date.today(), mistakes=True)
    mobiles = {(e["name"], e["post"]): e.get("mobile") for e in sample.rows["employee"]}
    page = phone.new_page()
    chosen = None
    for url in post_urls:  # the first card whose post has a worker with a phone number
        page.goto(url)
        post = page.inner_text(".level").split("　")[0].split(" ")[-1]
        names = [n for n in page.locator("#name option").all_inner_texts() if n != "请选择您的姓名"]
        for name in names:
            mobile = mobiles.get((name, post))
            if mobile and len(mobile) == 11:
                chosen = (url, post, name, mobile)
                break
        if chosen:
            break
    assert chosen, "a post with a worker who has a phone number"
    url, post, name, mobile = chosen
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling on a phone"
    page.screenshot(path=str(served.shots / "01_岗位告知卡.png"), full_page=True)
    page.select_option("#name", name)
    page.fill("#phone", mobile[-4:])
    _answer(page, right=False)
    page.screenshot(path=str(served.shots / "02_作答.png"), full_page=True)
    page.click("button[type=submit]")
    assert "有 1 题答得不对" in page.inner_text("#message")
    assert page.locator("#card-controls.wrong").count() == 1
    page.screenshot(path=str(served.shots / "03_答错重答.png"), full_page=True)
    page.select_option("#name", name)
    page.fill("#phone", mobile[-4:])
    _answer(page)
    page.click("button[type=submit]")
    assert "五题全部正确" in page.inner_text("#confirmed")
    page.screenshot(path=str(served.shots / "04_已确认.png"), full_page=True)
    with Archive(served.archive) as a:
        rows = a.db.execute("SELECT day, name, post, result, via FROM confirmations").fetchall()
    assert [tuple(r) for r in rows] == [(date.today().isoformat(), name, post, "全部正确", "手机扫码")]
    summary = {r.uscc: r for r in rollup_archives([served.archive], as_of=date.today()).enterprises}[DEMO_USCC]
    ledger = {(q["date"].isoformat(), q["name"], q["post"]) for q in sample.rows["quiz"] if q.get("date") and q.get("name")}
    assert summary.quiz_12m >= 1 and (date.today().isoformat(), name, post) not in ledger
    assert summary.quiz_12m == len({k for k in ledger if (date.today() - date.fromisoformat(k[0])).days < 365}
                                   | {(date.today().isoformat(), name, post)})


def test_inspector_scans_the_enterprise_code(served, phone):
    urls = [u for u in _qr_urls(served.board) if u.startswith(served.base + "/e/")]
    assert urls, "the notice board's code opens the enterprise page"
    page = phone.new_page()
    page.goto(urls[0])
    assert "舞阳县宏达机械配件有限公司" in page.inner_text("h1")
    assert page.evaluate("document.querySelector('img.map').naturalWidth") > 300, "the four-colour map loads"
    page.screenshot(path=str(served.shots / "05_企业风险公告.png"), full_page=True)


def test_county_staff_log_in_and_see_the_confirmation(served, phone):
    page = phone.new_page()
    page.goto(served.base + "/staff")
    assert page.url.endswith("/staff/login")
    page.screenshot(path=str(served.shots / "06_登录.png"), full_page=True)
    page.fill("#username", "wuyang")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert page.url.endswith("/staff")
    assert "舞阳县宏达机械配件有限公司" in page.inner_text("#enterprises")
    page.screenshot(path=str(served.shots / "07_企业清单.png"), full_page=True)
    page.click("text=舞阳县宏达机械配件有限公司")
    assert "手机扫码" in page.inner_text("#confirmations")
    page.screenshot(path=str(served.shots / "08_企业档案.png"), full_page=True)
    page.goto(served.base + "/staff/hazards/overdue")
    page.screenshot(path=str(served.shots / "09_逾期隐患.png"), full_page=True)
    page.goto(served.base + "/staff/enforcement")
    assert "舞阳县宏达机械配件有限公司" in page.inner_text("#enforcement"), "the demo breaks rules: it is ranked"
    page.screenshot(path=str(served.shots / "10_重点检查企业.png"), full_page=True)


def test_staff_download_the_documents_of_the_archived_original(served):
    import re

    import httpx

    with httpx.Client(base_url=served.base, follow_redirects=False, timeout=60) as c:
        page = c.get("/staff/login").text
        token = re.findall(r'name="csrf" value="([^"]+)"', page)[-1]
        r = c.post("/staff/login", data={"csrf": token, "username": "wuyang", "password": PASSWORD})
        assert r.status_code == 303
        r = c.get(f"/staff/enterprise/{DEMO_USCC}/documents.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        assert "岗位告知卡.docx" in names and "风险公告栏.docx" in names
        cards = served.folder / "downloaded_cards.docx"
        cards.write_bytes(z.read("岗位告知卡.docx"))
    assert set(_qr_urls(cards)) == set(_qr_urls(served.cards)), "the same printed codes, whoever prints them"
