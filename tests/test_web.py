"""The county web service over HTTP (Starlette's test client on a real archive, SQLite and PostgreSQL):
every page and form, the quiz confirmation, county scoping, forms that are forged or
replayed, throttling (shared by several app instances on one archive), security headers,
and the confirmations in the roll-up and export."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from builders import AS_OF
from click.testing import CliRunner
from conftest import pg_schema_url
from starlette.testclient import TestClient
from web_helpers import (
    NOW,
    OTHER_USCC,
    PASSWORD,
    QUIZ_KEYS,
    Site,
    build_site,
    card_texts,
    csrf,
    names,
    options,
    right_answers,
    submit,
    wrong_answers,
)

from dpsheets.cli import cli
from dpsheets.county import users
from dpsheets.county.archive import Archive
from dpsheets.county.rollup import rollup_archives
from dpsheets.documents import qr
from dpsheets.web.app import create_app
from dpsheets.web.security import Limits
from dpsheets.workbook.registers import QUIZ, identity_columns
from dpsheets.workbook.samples import DEMO_USCC, valid_uscc


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request) -> str:
    return request.param


def _target(request, engine: str, folder: Path) -> Path | str:
    """A new archive on *engine*: an SQLite file in *folder*, or a fresh schema of the session's PostgreSQL database."""
    return folder / "档案.sqlite" if engine == "sqlite" else pg_schema_url(request.getfixturevalue("pg_database"))


@pytest.fixture(scope="module")
def site(request, engine, tmp_path_factory) -> Site:
    """The archive most tests share (module-wide, per engine)."""
    folder = tmp_path_factory.mktemp("web")
    return build_site(folder, _target(request, engine, folder))


@pytest.fixture()
def fresh(request, engine, tmp_path) -> Site:
    """An archive of its own on the same engine: for tests that add submissions or count attempts."""
    return build_site(tmp_path, _target(request, engine, tmp_path))


@pytest.fixture()
def make_app():
    """create_app, with every app's connections closed at the end of the test."""
    made = []

    def make(archive: Path | str, **options: Any):
        options.setdefault("clock", lambda: NOW)
        made.append(create_app(archive, **options))
        return made[-1]

    yield make
    for a in made:
        a.state.service.store.close()


# The attempts of the tests sharing the module's archive add up (the throttle counts them in the archive, in the
# window before NOW): their app is not throttled; the throttles are tested on archives of their own.
UNTHROTTLED = Limits(quiz_per_worker=1000, quiz_per_address=1000)


@pytest.fixture()
def app(site, make_app):
    return make_app(site.archive, limits=UNTHROTTLED)


def client(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def _post(site, i: int = 0):
    return site.demo.rows["post"][i]


def _worker(site, post) -> tuple[str, str]:
    e = next(e for e in site.demo.rows["employee"] if e["post"] == post["post"] and e.get("mobile"))
    return e["name"], e["mobile"][-4:]


def _post_url(app, site, i: int = 0) -> str:
    p = _post(site, i)
    return "/p/" + app.state.service.store.post_token(DEMO_USCC, p["workshop"], p["post"])


def _confirmations(site) -> list[Any]:
    with Archive(site.archive) as a:
        return a.db.execute("SELECT * FROM confirmations ORDER BY id").fetchall()


def _audit(site) -> list[Any]:
    with Archive(site.archive) as a:
        return a.db.execute("SELECT * FROM audit ORDER BY id").fetchall()


def _clear_confirmations(site) -> None:
    with Archive(site.archive) as a:
        a.db.execute("DELETE FROM confirmations")


# --- the worker's post page ----------------------------------------------------------------------

def test_post_page_shows_the_card_then_five_questions(app, site):
    post = _post(site)
    page = client(app).get(_post_url(app, site)).text
    card = card_texts(page)
    assert card == {k: post[k] for k in QUIZ_KEYS}
    opts = options(page)
    assert list(opts) == list(QUIZ_KEYS)
    others = site.demo.rows["post"][1:]
    for k in QUIZ_KEYS:
        texts = [t for _, t in opts[k]]
        assert texts.count(post[k]) == 1, "the right answer is one of the options"
        wrong = [t for t in texts if t != post[k]]
        assert wrong and set(wrong) <= {o[k] for o in others}, "wrong options are other posts' answers to the same question"
    expected = sorted({e["name"] for e in site.demo.rows["employee"] if e["post"] == post["post"]})
    assert names(page) == expected
    assert "<script" not in page and 'lang="zh-CN"' in page and "width=device-width" in page


def test_all_five_right_records_a_confirmation(app, site):
    _clear_confirmations(site)
    c = client(app)
    url = _post_url(app, site)
    page = c.get(url).text
    name, digits = _worker(site, _post(site))
    r = c.post(url, data={"csrf": csrf(page), "name": name, "phone": digits, **right_answers(page)})
    assert r.status_code == 200 and 'id="confirmed"' in r.text
    rows = _confirmations(site)
    assert [(x["uscc"], x["day"], x["name"], x["post"], x["result"], x["via"]) for x in rows] == \
        [(DEMO_USCC, AS_OF.isoformat(), name, _post(site)["post"], "全部正确", "手机扫码")]
    audit = _audit(site)[-1]
    assert audit["action"] == "confirmation.add" and audit["who"] == f"员工:{name}" and audit["target"] == DEMO_USCC
    # the same worker again today: acknowledged, not recorded twice
    page = c.get(url).text
    r = c.post(url, data={"csrf": csrf(page), "name": name, "phone": digits, **right_answers(page)})
    assert "不再重复记录" in r.text and len(_confirmations(site)) == 1


def test_a_wrong_answer_shows_the_card_and_lets_them_retry(app, site):
    _clear_confirmations(site)
    c = client(app)
    url = _post_url(app, site, 1)
    page = c.get(url).text
    name, digits = _worker(site, _post(site, 1))
    r = c.post(url, data={"csrf": csrf(page), "name": name, "phone": digits, **wrong_answers(page, ("triggers",))})
    assert r.status_code == 200 and "有 1 题答得不对" in r.text
    assert re.search(r'<dd id="card-triggers" class="wrong">', r.text), "the card's answer is marked"
    assert 'id="q-triggers" class="wrong"' in r.text and _confirmations(site) == []
    r = c.post(url, data={"csrf": csrf(r.text), "name": name, "phone": digits, **right_answers(r.text)})
    assert 'id="confirmed"' in r.text and len(_confirmations(site)) == 1


def test_wrong_phone_digits_record_nothing(app, site):
    _clear_confirmations(site)
    before = len(_audit(site))
    c = client(app)
    url = _post_url(app, site)
    name, digits = _worker(site, _post(site))
    for bad in (str((int(digits) + 1) % 10000).zfill(4), "", "12a4", digits + "0"):
        page = c.get(url).text
        r = c.post(url, data={"csrf": csrf(page), "name": name, "phone": bad, **right_answers(page)})
        assert r.status_code == 400 and "手机号后四位" in r.text
    page = c.get(url).text
    r = c.post(url, data={"csrf": csrf(page), "name": "不在名单的人", "phone": digits, **right_answers(page)})
    assert r.status_code == 400 and "请在名单中选择您的姓名" in r.text
    assert _confirmations(site) == []
    refused = _audit(site)[before:]  # the attempts are audited (the throttle counts them), nothing else is written
    assert [(a["action"], a["who"], a["target"]) for a in refused] == \
        [("confirmation.refused", f"员工:{name}", DEMO_USCC)] * 4 + [("confirmation.refused", "员工:不在名单的人", DEMO_USCC)]
    assert all("手机号后四位不符" in a["detail"] for a in refused[:4]) and "不在岗位人员名单" in refused[4]["detail"]


def test_forged_or_replayed_forms_are_refused(app, site):
    _clear_confirmations(site)
    url = _post_url(app, site)
    name, digits = _worker(site, _post(site))
    c = client(app)
    page = c.get(url).text
    good = {"csrf": csrf(page), "name": name, "phone": digits, **right_answers(page)}
    assert c.post(url, data={k: v for k, v in good.items() if k != "csrf"}).status_code == 403  # no token
    assert c.post(url, data=dict(good, csrf=good["csrf"][:-3] + "abc")).status_code == 403  # tampered
    other = client(app)  # another browser (its own cookie) posting this browser's token
    other.get("/")
    assert other.post(url, data=good).status_code == 403
    assert c.post(_post_url(app, site, 1), data=good).status_code == 403  # the token of another post
    assert c.post(url, data=good).status_code == 200  # the genuine form, once
    r = c.post(url, data=good)  # the same form again
    assert r.status_code == 403 and "已经提交过" in r.text
    assert len(_confirmations(site)) == 1
    login = c.get("/staff/login").text
    r = c.post("/staff/login", data={"csrf": csrf(page), "username": "wuyang", "password": PASSWORD})
    assert r.status_code == 403, "a quiz token does not log anyone in"
    assert "csrf" in login


def test_a_form_used_on_one_instance_is_refused_on_another(fresh, make_app):
    """Two app instances on one archive (two `serve` processes): the used form tokens are the archive's, so a form
    replayed to the other instance is refused; used tokens older than a form's validity are purged."""
    stale = (NOW - timedelta(seconds=Limits().form_max_age + 60)).isoformat(timespec="seconds")
    with Archive(fresh.archive) as a:
        a.db.execute("INSERT INTO used_forms (token, used_at) VALUES (?, ?)", ("stale-nonce", stale))
    first, second = make_app(fresh.archive), make_app(fresh.archive)
    a_client, b_client = client(first), client(second)
    url = _post_url(first, fresh)
    name, digits = _worker(fresh, _post(fresh))
    page = a_client.get(url).text
    b_client.cookies.set("dps_b", a_client.cookies["dps_b"])  # the same browser, its requests spread over both
    good = {"csrf": csrf(page), "name": name, "phone": digits, **right_answers(page)}
    assert a_client.post(url, data=good).status_code == 200
    r = b_client.post(url, data=good)
    assert r.status_code == 403 and "已经提交过" in r.text
    login = b_client.get("/staff/login").text  # and the other way round, with the login form
    form = {"csrf": csrf(login), "username": "wuyang", "password": PASSWORD}
    assert b_client.post("/staff/login", data=form).status_code == 303
    a_client.cookies.set("dps_b", b_client.cookies["dps_b"])
    r = a_client.post("/staff/login", data=form)
    assert r.status_code == 403 and "已经提交过" in r.text
    with Archive(fresh.archive) as a:
        kept = [r[0] for r in a.db.execute("SELECT token FROM used_forms")]
    assert len(kept) == 2 and "stale-nonce" not in kept, "the two used forms are kept, the expired one purged"
    assert len(_confirmations(fresh)) == 1


def test_confirmations_are_limited_per_worker_and_per_address(fresh, make_app):
    """Two app instances on one archive (two processes, or uvicorn workers) share the limits."""
    clock = [NOW]
    limits = Limits(quiz_per_worker=3, quiz_per_address=5)
    apps = [make_app(fresh.archive, clock=lambda: clock[0], limits=limits) for _ in range(2)]
    clients = [client(a) for a in apps]
    url = _post_url(apps[0], fresh)
    name, digits = _worker(fresh, _post(fresh))
    tries = [0]

    def attempt(who: str, phone: str = "0000" if digits != "0000" else "1111") -> int:
        c = clients[tries[0] % 2]  # alternately on each instance
        tries[0] += 1
        page = c.get(url).text
        return c.post(url, data={"csrf": csrf(page), "name": who, "phone": phone, **right_answers(page)}).status_code

    assert [attempt(name) for _ in range(4)] == [400, 400, 400, 429]
    assert attempt(name, digits) == 429, "even the right digits wait"
    other = next(n for n in names(clients[0].get(url).text) if n != name)
    assert [attempt(other) for _ in range(3)] == [400, 400, 429], "the address's 5 are used up"
    assert _confirmations(fresh) == []
    clock[0] = NOW + timedelta(seconds=limits.quiz_window + 1)  # the window has passed
    assert attempt(name, digits) == 200 and len(_confirmations(fresh)) == 1


# --- the public enterprise page ----------------------------------------------------------------------

def test_enterprise_page_shows_what_the_notice_board_shows(app, site):
    c = client(app)
    store = app.state.service.store
    r = c.get("/e/" + store.enterprise_token(DEMO_USCC))
    assert r.status_code == 200
    page = r.text
    assert site.demo.enterprise["name"] in page and "舞阳县" in page
    assert (AS_OF - timedelta(days=1)).isoformat() in page, "date of the last submission"
    assert "重大和较大风险" in page and "119" in page and site.demo.enterprise["phone"] in page
    for hazard in site.demo.rows["hazard"]:
        assert hazard["name"] not in page, "nothing internal: no hazards"
    assert DEMO_USCC not in page and "problems" not in page
    img = c.get("/e/" + store.enterprise_token(DEMO_USCC) + "/map.png")
    assert img.status_code == 200 and img.content.startswith(b"\x89PNG")
    hostile = c.get("/e/" + store.enterprise_token(OTHER_USCC)).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile and "<script>alert" not in hostile


def test_unknown_or_mismatched_tokens_are_not_found(app, site):
    c = client(app)
    store = app.state.service.store
    for url in ("/p/aaaaaaaaaaaaaaaa", "/e/aaaaaaaaaaaaaaaa", f"/e/{DEMO_USCC}", "/p/../../etc",
                "/p/" + store.enterprise_token(DEMO_USCC), "/e/" + _post_url(app, site)[3:], "/nothing"):
        r = c.get(url)
        assert r.status_code == 404, url
        assert "二维码" in r.text or "页面不存在" in r.text


def test_tokens_stay_stable_across_submissions(tmp_path, fresh, make_app):
    site = fresh
    app = make_app(site.archive)
    c = client(app)
    url = _post_url(app, site)
    assert c.get(url).status_code == 200
    changed = site.demo.rows["post"][0] | {"duties": "新的岗位职责"}
    from dpsheets.workbook.samples import Plant

    p = Plant(site.demo.enterprise, dict(site.demo.rows, post=[changed, *site.demo.rows["post"][1:]]))
    with Archive(site.archive) as a:
        submit(a, tmp_path, p, NOW - timedelta(hours=1), "resubmitted")
    page = c.get(url).text
    assert card_texts(page)["duties"] == "新的岗位职责", "the same printed code opens the newest card"


# --- county staff ---------------------------------------------------------------------------------

STAFF_URLS = ("/staff", f"/staff/enterprise/{DEMO_USCC}", "/staff/hazards/overdue", "/staff/hazards/majors",
              "/staff/missing", "/staff/audit", "/staff/download/summary.xlsx", "/staff/download/report.docx",
              f"/staff/enterprise/{DEMO_USCC}/confirmations.xlsx", f"/staff/enterprise/{DEMO_USCC}/documents.zip")


def login(app, username: str, password: str = PASSWORD) -> TestClient:
    c = client(app)
    page = c.get("/staff/login").text
    r = c.post("/staff/login", data={"csrf": csrf(page), "username": username, "password": password})
    assert r.status_code == 303 and r.headers["location"] == "/staff", r.text
    return c


def test_anonymous_users_reach_only_public_pages(app, site):
    c = client(app)
    for url in STAFF_URLS:
        r = c.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/staff/login", url
    forged = c.cookies.set("dps_s", "eyJ1IjoicHJvdmluY2UifQ.forged.sig")
    assert forged is None and c.get("/staff").status_code == 303, "a forged session cookie is no session"
    assert c.get("/").status_code == 200 and c.get("/staff/login").status_code == 200


def test_county_staff_see_their_county_only(app, site):
    c = login(app, "wuyang")
    page = c.get("/staff").text
    assert site.demo.enterprise["name"] in page and "郾城区" not in page and "五金厂" not in page
    assert c.get(f"/staff/enterprise/{OTHER_USCC}").status_code == 404
    assert c.get(f"/staff/enterprise/{OTHER_USCC}/confirmations.xlsx").status_code == 404
    assert c.get(f"/staff/enterprise/{DEMO_USCC}").status_code == 200
    for kind in ("overdue", "majors"):
        assert "五金厂" not in c.get(f"/staff/hazards/{kind}").text
    book = openpyxl.load_workbook(io.BytesIO(c.get("/staff/download/summary.xlsx").content), read_only=True)
    cells = {str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v}
    assert DEMO_USCC in cells and OTHER_USCC not in cells
    other = login(app, "yancheng")
    assert other.get(f"/staff/enterprise/{DEMO_USCC}").status_code == 404
    assert "&lt;script&gt;" in other.get("/staff").text
    everyone = login(app, "province").get("/staff").text
    assert site.demo.enterprise["name"] in everyone and "五金厂" in everyone
    assert c.get("/staff/audit").status_code == 404, "the audit log is for province accounts"
    audit = login(app, "province").get("/staff/audit").text
    assert "user.add" in audit and "login" in audit and "wuyang" in audit


def test_staff_list_search_and_filters(app, site):
    c = login(app, "province")
    assert "五金厂" not in c.get("/staff", params={"q": "宏达"}).text
    assert "宏达" in c.get("/staff", params={"q": DEMO_USCC[:10]}).text
    assert "宏达" not in c.get("/staff", params={"township": "城关镇"}).text
    assert "宏达" not in c.get("/staff", params={"industry": "建材"}).text
    overdue = c.get("/staff", params={"flag": "overdue"}).text
    assert "宏达" in overdue  # the demo plant has overdue hazards
    assert "宏达" in c.get("/staff", params={"flag": "not_effective"}).text or "体系运行正常" in \
        c.get(f"/staff/enterprise/{DEMO_USCC}").text


def test_enterprise_file_has_submissions_problems_hazards_and_confirmations(app, site):
    _clear_confirmations(site)
    worker = client(app)
    url = _post_url(app, site)
    page = worker.get(url).text
    name, digits = _worker(site, _post(site))
    worker.post(url, data={"csrf": csrf(page), "name": name, "phone": digits, **right_answers(page)})
    c = login(app, "wuyang")
    page = c.get(f"/staff/enterprise/{DEMO_USCC}").text
    assert 'id="submissions"' in page and "demo.xlsx" in page
    assert 'id="hazards"' in page and "逾期" in page
    confirmations = page.split('id="confirmations"')[1]
    people = {q["name"] for q in site.demo.rows["quiz"] if (AS_OF - q["date"]).days < 365} | {name}
    assert name in confirmations and "手机扫码" in confirmations and f"确认 {len(people)} 人" in page
    overdue = c.get("/staff/hazards/overdue").text
    assert site.demo.enterprise["name"] in overdue
    export = openpyxl.load_workbook(io.BytesIO(c.get(f"/staff/enterprise/{DEMO_USCC}/confirmations.xlsx").content))
    ws = export[QUIZ.sheet]
    assert [c.value for c in ws[1]] == [f.header for f in QUIZ.fields]
    assert [c.value for c in ws[2]][1:] == [name, _post(site)["post"], "全部正确", "手机"]
    report = c.get("/staff/download/report.docx")
    assert report.status_code == 200 and report.content[:2] == b"PK"
    assert "attachment" in report.headers["content-disposition"]
    assert "应报企业名单" in c.get("/staff/missing").text


def test_missing_lists_roster_non_submitters_of_the_county(tmp_path, site, make_app):
    from dpsheets.county.roster import write_template

    roster = write_template(tmp_path / "名单.xlsx")
    book = openpyxl.load_workbook(roster)
    ws = book.active
    ws.append(["舞阳县未报厂", valid_uscc("91411121MA9KXD3R1"), "舞阳县", "舞泉镇", "机械"])
    ws.append(["郾城区未报厂", valid_uscc("91411102MA9KXD3R1"), "郾城区", "城关镇", "机械"])
    ws.append([site.demo.enterprise["name"], DEMO_USCC, "舞阳县", "舞泉镇", "机械"])
    book.save(roster)
    app = make_app(site.archive, roster=roster)
    page = login(app, "wuyang").get("/staff/missing").text
    assert "舞阳县未报厂" in page and "郾城区未报厂" not in page and "宏达" not in page
    heads = re.findall(r"<th>(.*?)</th>", page.split('id="missing"')[1])
    assert sorted(heads) == sorted(h for _, h in identity_columns()), "the identity columns as 企业信息 declares them"
    assert "郾城区未报厂" in login(app, "province").get("/staff/missing").text


def test_staff_pages_rank_enterprises_by_score_as_the_summary_does(tmp_path, fresh, make_app):
    """重点检查企业 on the staff pages: the order of ranked(...) of the roll-up (the summary sheet's), with 分值 and the
    reasons (message, code, points); the list and the file show the same 分值 and reasons."""
    from dpsheets.county.enforcement import ranked
    from dpsheets.county.rollup import Area
    from dpsheets.county.roster import write_template

    roster = write_template(tmp_path / "名单.xlsx")
    book = openpyxl.load_workbook(roster)
    for i, (county, township) in enumerate([("舞阳县", "舞泉镇"), ("舞阳县", "北舞渡镇"), ("郾城区", "城关镇")]):
        book.active.append([f"{county}未报厂{i}", valid_uscc(f"91411121MA9KXD{i}R1"), county, township, "机械"])
    book.save(roster)
    from dpsheets.county.roster import read_roster

    members = read_roster(roster)[0]
    app = make_app(fresh.archive, roster=roster)
    for username, county in (("wuyang", "舞阳县"), ("province", None)):
        expected = rollup_archives([fresh.archive], as_of=AS_OF, roster=[m for m in members if county in (None, m.county)],
                                   area=Area(county=county))
        order = ranked([*expected.enterprises, *expected.missing])
        assert len(order) >= 3 and len({r.score for r in order}) >= 2, "a ranking with different 分值 to compare"
        c = login(app, username)
        page = c.get("/staff/enforcement").text
        table = page.split('id="enforcement"')[1]
        shown = re.findall(r'<tr data-uscc="(\w+)">(.*?)</tr>', table, re.S)
        assert [u for u, _ in shown] == [r.uscc for r in order] == [r.uscc for r in expected.enforcement()]
        for (_, cells), r in zip(shown, order, strict=True):
            assert re.search(r'<td class="score">(.*?)</td>', cells)[1] == f"{r.score:g}"
            reasons = [html.unescape(x) for x in re.findall(r"<li>(.*?)</li>", cells)]
            assert [re.sub(r"<[^>]+>", "", x) for x in reasons] == [f"{b.message}（{b.code}，{b.points:g} 分）"
                                                                    for b in r.breaches]
        listed = dict(re.findall(r'href="/staff/enterprise/(\w+)">.*?<td class="score">(.*?)</td>',
                                 c.get("/staff").text, re.S))
        assert listed == {r.uscc: f"{r.score:g}" for r in expected.enterprises}
    demo = next(r for r in order if r.uscc == DEMO_USCC)
    file = html.unescape(login(app, "wuyang").get(f"/staff/enterprise/{DEMO_USCC}").text)
    assert f'分值 <span class="score">{demo.score:g}</span>' in file
    assert all(f"{b.message}<span class=\"code\">（{b.code}，{b.points:g} 分）" in file for b in demo.breaches)


def test_staff_pages_read_the_lists_and_a_confirmation_renews_only_the_enterprises(fresh, make_app):
    """The staff pages ask County.rollup for the lists only (no trend, 报送情况 or alerts), which are the summary's;
    a confirmation recomputes the enterprises' rows (their confirmations), not the hazard lists."""
    from dpsheets.county.county import County

    with County(fresh.folder, archive=fresh.archive) as county:
        full = county.rollup(AS_OF, county="舞阳县").in_memory()
        lists = county.rollup(AS_OF, county="舞阳县", lists_only=True).in_memory()
    assert full.trend and full.filings is not None and lists.trend == {} and lists.filings is None
    assert list(lists.enterprises) == list(full.enterprises) and list(lists.enforcement()) == list(full.enforcement())
    assert [list(x) for x in (lists.overdue, lists.majors, lists.missing)] == \
        [list(x) for x in (full.overdue, full.majors, full.missing)] and list(full.overdue)

    app = make_app(fresh.archive)
    store = app.state.service.store
    asked: list[dict] = []
    real = store.county.rollup

    def counted(*args: Any, **kwargs: Any):
        asked.append(kwargs)
        return real(*args, **kwargs)

    store.county.rollup = counted
    c = login(app, "wuyang")
    for path in ("/staff", "/staff/hazards/overdue", "/staff/enforcement", "/staff/hazards/majors"):
        assert c.get(path).status_code == 200
    before = re.search(rf'{DEMO_USCC}">.*?</tr>', c.get("/staff").text, re.S)[0]
    assert len(asked) == 1 and asked[0]["lists_only"] is True
    url = _post_url(app, fresh)
    name, digits = _worker(fresh, _post(fresh))
    page = c.get(url).text
    assert 'id="confirmed"' in c.post(url, data={"csrf": csrf(page), "name": name, "phone": digits,
                                                 **right_answers(page)}).text
    assert "逾期" in c.get("/staff/hazards/overdue").text and len(asked) == 1, "the hazard lists did not change"
    row = re.search(rf'{DEMO_USCC}">.*?</tr>', c.get("/staff").text, re.S)[0]
    assert len(asked) == 2 and row != before, "the confirmation is counted at once (近12月答题确认)"


def _login_status(c: TestClient, username: str, password: str) -> int:
    page = c.get("/staff/login").text
    return c.post("/staff/login", data={"csrf": csrf(page), "username": username, "password": password}).status_code


def test_tenth_rapid_wrong_login_is_throttled(fresh, make_app):
    """Across two app instances on one archive (two processes, or uvicorn workers): the throttle is in the archive."""
    clock = [NOW]
    apps = [make_app(fresh.archive, clock=lambda: clock[0]) for _ in range(2)]
    clients = [client(a) for a in apps]
    codes = [_login_status(clients[i % 2], "wuyang", "wrong") for i in range(10)]
    assert codes == [401] * 9 + [429]
    assert _login_status(clients[0], "wuyang", PASSWORD) == 429, "even the right password waits while throttled"
    assert _login_status(clients[1], "wuyang", PASSWORD) == 429
    actions = [a["action"] for a in _audit(fresh)[-12:]]
    assert actions.count("login.fail") == 9 and actions[-3:] == ["login.throttled"] * 3
    clock[0] = NOW + timedelta(seconds=Limits().login_window - 1)
    assert _login_status(clients[1], "wuyang", PASSWORD) == 429, "still inside the window"
    clock[0] = NOW + timedelta(seconds=Limits().login_window + 1)
    assert _login_status(clients[1], "wuyang", PASSWORD) == 303, "the window has passed"


def test_wrong_logins_are_throttled_per_address_and_per_user(fresh, make_app):
    clock = [NOW]
    apps = [make_app(fresh.archive, clock=lambda: clock[0], limits=Limits(login_failures=3)) for _ in range(2)]

    def at(address: str, i: int = 0) -> TestClient:
        return TestClient(apps[i % 2], follow_redirects=False, client=(address, 50000))

    # one address trying many names: its fourth failure is refused, whatever the name
    assert [_login_status(at("10.0.0.1", i), f"guess{i}", "wrong") for i in range(4)] == [401, 401, 401, 429]
    assert _login_status(at("10.0.0.2"), "guess9", "wrong") == 401, "other addresses are not held up"
    # one name from several addresses: counted per name; a good login clears the name's count
    assert [_login_status(at(f"10.0.1.{i}", i), "yancheng", "wrong") for i in range(2)] == [401, 401]
    assert _login_status(at("10.0.1.5"), "yancheng", PASSWORD) == 303
    assert [_login_status(at(f"10.0.2.{i}", i), "yancheng", "wrong") for i in range(3)] == [401, 401, 401]
    assert _login_status(at("10.0.3.1", 1), "yancheng", PASSWORD) == 429
    assert _login_status(at("10.0.3.1", 1), "wuyang", PASSWORD) == 303, "other names are not held up"
    clock[0] += timedelta(seconds=Limits().login_window + 1)
    assert _login_status(at("10.0.0.1"), "yancheng", PASSWORD) == 303, "both windows have passed"


def test_logout_and_password_change_end_sessions(app, site):
    c = login(app, "wuyang")
    page = c.get("/staff").text
    r = c.post("/staff/logout", data={"csrf": csrf(page)})
    assert r.status_code == 303 and c.get("/staff").status_code == 303
    c = login(app, "province")
    with Archive(site.archive) as a:
        users.set_password(a, "province", PASSWORD + "!", now=NOW)
    assert c.get("/staff").status_code == 303, "the old session ends with the password change"
    with Archive(site.archive) as a:
        users.set_password(a, "province", PASSWORD, now=NOW)


def test_security_headers_and_cookies(app, site):
    c = client(app)
    r = c.get(_post_url(app, site))
    h = r.headers
    assert "default-src 'none'" in h["content-security-policy"] and "script-src" not in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer" and h["cache-control"] == "no-store"
    assert "httponly" in h["set-cookie"].lower() and "samesite=lax" in h["set-cookie"].lower()
    assert c.get("/static/site.css").headers["content-type"].startswith("text/css")
    assert c.get("/static/../app.py").status_code == 404


# --- commands, roll-up ----------------------------------------------------------------------------

def test_user_commands_and_confirmation_export(tmp_path, fresh, make_app):
    site, path = fresh, str(fresh.archive)
    run = CliRunner().invoke
    r = run(cli, ["user", "--archive", str(path), "add", "clerk", "--county", "舞阳县", "--password-stdin"],
            input="a long enough password\n")
    assert r.exit_code == 0, r.output
    r = run(cli, ["user", "--archive", str(path), "add", "short", "--county", "舞阳县", "--password-stdin"], input="short\n")
    assert r.exit_code != 0
    assert run(cli, ["user", "--archive", str(path), "passwd", "clerk", "--password-stdin"],
               input="another long password\n").exit_code == 0
    assert "clerk\t舞阳县" in run(cli, ["user", "--archive", str(path), "list"]).output
    assert run(cli, ["user", "--archive", str(path), "remove", "clerk"]).exit_code == 0
    with Archive(path) as a:
        assert users.get(a, "clerk") is None
        stored = a.db.execute("SELECT password_hash FROM users WHERE username = 'wuyang'").fetchone()[0]
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        actions = [r["action"] for r in a.db.execute("SELECT action FROM audit WHERE target = 'clerk' ORDER BY id")]
    assert actions == ["user.add", "user.passwd", "user.remove"]
    app = make_app(path)
    c = client(app)
    url = _post_url(app, site)
    page = c.get(url).text
    name, digits = _worker(site, _post(site))
    c.post(url, data={"csrf": csrf(page), "name": name, "phone": digits, **right_answers(page)})
    out = tmp_path / "确认.xlsx"
    r = run(cli, ["archive", "--archive", str(path), "confirmations", DEMO_USCC, "-o", str(out)])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(out)[QUIZ.sheet]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == tuple(f.header for f in QUIZ.fields)
    assert rows[1][0].date() == AS_OF and rows[1][1:] == (name, _post(site)["post"], "全部正确", "手机")


def test_confirmations_count_in_the_rollup_once(tmp_path, fresh, make_app):
    site, path = fresh, fresh.archive
    before = {r.uscc: r for r in rollup_archives([path], as_of=AS_OF).enterprises}[DEMO_USCC]
    ledger = {(q["date"].isoformat(), q["name"], q["post"]) for q in site.demo.rows["quiz"]
              if (AS_OF - q["date"]).days < 365}
    assert before.quiz_12m == len(ledger)
    app = make_app(path)
    c = client(app)
    url = _post_url(app, site)
    page = c.get(url).text
    name, digits = _worker(site, _post(site))
    c.post(url, data={"csrf": csrf(page), "name": name, "phone": digits, **right_answers(page)})
    after = {r.uscc: r for r in rollup_archives([path], as_of=AS_OF).enterprises}[DEMO_USCC]
    new = (AS_OF.isoformat(), name, _post(site)["post"])
    assert after.quiz_12m == len(ledger | {new})
    assert after.quiz_people_12m == len({n for _, n, _ in ledger | {new}})
    from dpsheets.county.summary_book import write_summary

    book = write_summary(rollup_archives([path], as_of=AS_OF), tmp_path / "汇总.xlsx", "汇总")
    ws = openpyxl.load_workbook(book)["企业明细"]
    head = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == DEMO_USCC)
    assert row[head.index("近12个月答题确认")] == after.quiz_12m
    assert row[head.index("近12个月答题确认人数")] == after.quiz_people_12m
    assert row[head.index("答题确认覆盖率")] == pytest.approx(min(after.quiz_people_12m, after.employees) / after.employees)
    # the enterprise pastes the export into its workbook and submits again: still counted once
    q = site.demo.rows["quiz"] + [{"date": AS_OF, "name": name, "post": _post(site)["post"], "result": "全部正确",
                                   "via": "手机"}]
    from dpsheets.workbook.samples import Plant

    with Archive(path) as a:
        submit(a, tmp_path, Plant(site.demo.enterprise, dict(site.demo.rows, quiz=q)), NOW, "pasted")
    again = {r.uscc: r for r in rollup_archives([path], as_of=AS_OF).enterprises}[DEMO_USCC]
    assert again.quiz_12m == after.quiz_12m


def test_service_and_watcher_share_the_archive(tmp_path, archive_target, make_app):
    """The folder watcher archives submissions while workers confirm on the service: nothing is lost or locked
    (the folder's 档案.sqlite, or a PostgreSQL archive with the folder named to the service)."""
    import threading

    from dpsheets.county.county import County
    from dpsheets.workbook.samples import plant
    from dpsheets.workbook.template import write_workbook

    folder = tmp_path / "舞阳县"
    inbox = folder / "收件箱"
    inbox.mkdir(parents=True)
    demo = plant(AS_OF, posts=6, employees=24)
    write_workbook(inbox / "demo.xlsx", demo.enterprise, demo.rows)
    target = folder / "档案.sqlite" if isinstance(archive_target, Path) else archive_target
    with County(folder, archive=target) as county:
        assert [o.destination for o in county.ingest(as_of=AS_OF, documents=False)] == ["已处理"]
    for i in range(4):
        p = plant(AS_OF, seed=20 + i, uscc=valid_uscc(f"9141112100{i:07d}"), name=f"并发企业{i}", posts=3, employees=5)
        write_workbook(inbox / f"e{i}.xlsx", p.enterprise, p.rows)
    app = make_app(target, limits=Limits(quiz_per_address=1000), folder=folder)
    c = client(app)
    outcomes = []
    watcher = threading.Thread(target=lambda: outcomes.extend(County(folder, archive=target).ingest(as_of=AS_OF,
                                                                                                  documents=False)))
    watcher.start()
    store = app.state.service.store
    original = store.stored_original(DEMO_USCC)  # what the documents download renders
    assert original is not None and original.parent == folder / "已处理"
    workers = [(p, e) for p in demo.rows["post"] for e in demo.rows["employee"] if e["post"] == p["post"] and e.get("mobile")]
    done = set()
    for p, e in workers:
        url = "/p/" + store.post_token(DEMO_USCC, p["workshop"], p["post"])
        page = c.get(url).text
        r = c.post(url, data={"csrf": csrf(page), "name": e["name"], "phone": e["mobile"][-4:], **right_answers(page)})
        assert r.status_code == 200 and 'id="confirmed"' in r.text
        done.add((e["name"], p["post"]))
    watcher.join(60)
    assert sorted(o.destination for o in outcomes) == ["已处理"] * 4
    with Archive(target) as a:
        assert a.db.execute("SELECT COUNT(*) FROM confirmations").fetchone()[0] == len(done) >= 6
        assert a.db.execute("SELECT COUNT(*) FROM enterprises").fetchone()[0] == 5


def test_serve_command_runs_the_service_with_a_county_template(tmp_path, fresh):
    """`dpsheets serve` as a county runs it: its own process, its own template overriding a shipped one,
    on the watch folder's 档案.sqlite or on a PostgreSQL URL."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    where = [str(tmp_path)] if isinstance(fresh.archive, Path) else [str(fresh.archive), "--folder", str(tmp_path)]
    own = tmp_path / "网页模板"
    own.mkdir()
    (own / "home.html").write_text('{% extends "base.html" %}{% block content %}<p id="own">舞阳县应急管理局 {{ "<b>" }}</p>'
                                   '{% endblock %}', encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "dpsheets", "serve", "--archive", *where, "--port", str(port),
                             "--templates", str(own)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert r.status_code == 200 and '<p id="own">舞阳县应急管理局 &lt;b&gt;</p>' in r.text
        assert httpx.get(f"http://127.0.0.1:{port}/staff/login").status_code == 200, "the shipped templates still serve"
        from dpsheets.web.store import Store

        store = Store(fresh.archive)
        try:
            token = store.post_token(DEMO_USCC, _post(fresh)["workshop"], _post(fresh)["post"])
        finally:
            store.close()
        assert _post(fresh)["duties"] in httpx.get(f"http://127.0.0.1:{port}/p/{token}").text, "it reads the archive"
    finally:
        proc.terminate()
        proc.wait(10)
    missing = CliRunner().invoke(cli, ["serve", "--archive", str(tmp_path / "nowhere")])
    assert missing.exit_code != 0


def test_docs_codes_open_the_service_of_either_engine(site, make_app):
    """`dpsheets docs --archive` takes the archive's QR secret from a file, a watch folder or a postgresql:// URL:
    the printed codes are the tokens the service resolves."""
    from dpsheets.config import Config
    from dpsheets.web.commands import with_qr_secret

    given = str(site.archive) if isinstance(site.archive, str) else str(site.folder)
    config = with_qr_secret(Config(qr_base_url="https://aq.example.cn"), given)
    store = make_app(site.archive).state.service.store
    assert config.qr_secret == store.qr_secret
    p = _post(site)
    assert store.resolve("p", qr.post_token(config.qr_secret, DEMO_USCC, p["workshop"], p["post"])) is not None


def test_docs_with_a_base_url_but_no_archive_says_the_codes_hold_text(tmp_path):
    import zxingcpp
    from builders import valid_workbook
    from PIL import Image

    book = valid_workbook(tmp_path / "台账.xlsx", posts=2, employees=2)
    (tmp_path / "dpsheets.toml").write_text('qr_base_url = "https://aq.example.cn"\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["docs", str(book), "--only", "cards", "--config", str(tmp_path / "dpsheets.toml"),
                                 "-o", str(tmp_path / "打印")])
    assert "没有用 --archive" in r.output
    import zipfile

    with zipfile.ZipFile(tmp_path / "打印" / "岗位告知卡.docx") as z:
        texts = [c.text for n in z.namelist() if n.startswith("word/media/")
                 for c in zxingcpp.read_barcodes(Image.open(io.BytesIO(z.read(n))))]
    assert texts and all(t.startswith("一企一码") for t in texts), "readable text, never the credit code in a URL"
