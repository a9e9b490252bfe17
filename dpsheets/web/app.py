"""The county web service (``dpsheets serve``): 一码 and 一题 on the live archive.

Pages (server-rendered HTML, no JavaScript, readable on a small phone and in WeChat):

- ``/p/TOKEN``: a post's card, then its five questions; the worker picks their name, gives the
  last four digits of their phone, and all five right records a confirmation.
- ``/e/TOKEN``: an enterprise's public page (what it posts on its notice board anyway).
- ``/staff/…``: county staff, after logging in: enterprises with search and filters, an
  enterprise's file, overdue and major hazards, roster non-submitters, downloads. A county
  account sees its county only; a province account (no county) sees all.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dpsheets.config import Config
from dpsheets.web import quiz
from dpsheets.web.security import (
    BROWSER_COOKIE,
    SESSION_COOKIE,
    FormTokens,
    Limits,
    SecurityHeaders,
    Sessions,
    burn_time,
    generation,
    verify_password,
)
from dpsheets.web.store import LOGIN_FAILED, LOGIN_OK, LOGIN_THROTTLED, Store
from dpsheets.workbook.registers import identity_columns

PACKAGE_TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
FLAGS = {"not_effective": "未有效运行", "overdue": "有逾期隐患"}


def environment(templates_dir: str | Path | None = None) -> jinja2.Environment:
    """Jinja2 with autoescaping; a county's own templates in *templates_dir* override the shipped ones."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir:
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES)))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    # the headers of the enterprise's identity columns, as 企业信息 declares them (统一社会信用代码, 企业名称, …)
    env.globals["identity"] = dict(identity_columns())
    return env


class Service:
    """Everything the handlers share."""

    def __init__(self, store: Store, clock: Callable[[], datetime], limits: Limits, templates_dir: str | Path | None,
                 secure_cookies: bool) -> None:
        self.store = store
        self.env = environment(templates_dir)
        self.clock = clock
        self.limits = limits
        self.sessions = Sessions(self.store.session_secret)
        self.forms = FormTokens(self.store.session_secret, limits.form_max_age,
                                lambda nonce: self.store.use_form(nonce, self.clock(), limits.form_max_age))
        self.secure_cookies = secure_cookies

    def today(self) -> date:
        return self.clock().date()

    # --- responses ------------------------------------------------------------------------------

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render *template*; a page with forms gets the browser cookie the form tokens are bound to."""
        browser = request.cookies.get(BROWSER_COOKIE)
        new_browser = None
        if browser is None or len(browser) < 20:
            browser = new_browser = secrets.token_urlsafe(24)
        context.setdefault("user", getattr(request.state, "user", None))

        def form_token(form: str, target: str = "") -> str:
            return self.forms.issue(browser, form, target)

        html = self.env.get_template(template).render(form_token=form_token, **context)
        response = HTMLResponse(html, status_code=status)
        if new_browser:
            response.set_cookie(BROWSER_COOKIE, new_browser, httponly=True, samesite="lax", secure=self.secure_cookies,
                                max_age=365 * 24 * 3600)
        return response

    def error(self, request: Request, status: int, title: str, message: str) -> HTMLResponse:
        return self.page(request, "error.html", status, title=title, message=message)

    async def check_form(self, request: Request, form: Any, name: str, target: str = "") -> str | None:
        """None when the form's token is good (and now used up, in the archive), else why it is refused."""
        return await run_in_threadpool(self.forms.check, form.get("csrf"), request.cookies.get(BROWSER_COOKIE), name,
                                       target)

    async def user(self, request: Request) -> Any:
        found = self.sessions.load(request.cookies.get(SESSION_COOKIE))
        if found is None:
            return None
        user = await run_in_threadpool(self.store.user, found[0])
        if user is None or generation(user.password_hash) != found[1]:
            return None
        request.state.user = user
        return user


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _svc(request: Request) -> Service:
    return request.app.state.service


# --- the worker: a post's card and its five questions --------------------------------------------

async def post_page(request: Request) -> Response:
    svc = _svc(request)
    token = request.path_params["token"]
    target = await run_in_threadpool(svc.store.resolve, "p", token)
    view = await run_in_threadpool(svc.store.post_view, target) if target else None
    if view is None:
        return svc.error(request, 404, "二维码无效", "没有找到这个岗位。告知卡可能已经过期，请向企业安全员索取最新的告知卡。")
    if request.method == "GET":
        return _quiz_page(request, svc, view)
    return await _quiz_submit(request, svc, view)


def _questions(svc: Service, view: Any) -> list[quiz.Question]:
    return quiz.build(view.card, view.others, seed=f"{view.target.token}|{svc.today().isoformat()}")


def _quiz_page(request: Request, svc: Service, view: Any, status: int = 200, **extra: Any) -> Response:
    extra.setdefault("wrong", [])
    extra.setdefault("message", "")
    extra.setdefault("chosen", {})
    extra.setdefault("name", "")
    return svc.page(request, "post.html", status, view=view, card=view.card, questions=_questions(svc, view),
                    names=sorted({n for n, _ in view.employees}), token=view.target.token, **extra)


async def _quiz_submit(request: Request, svc: Service, view: Any) -> Response:
    form = await request.form()
    refused = await svc.check_form(request, form, "quiz", view.target.token)
    if refused:
        return svc.error(request, 403, "无法提交", refused)
    name = str(form.get("name") or "").strip()[:40]
    digits = str(form.get("phone") or "").strip()
    chosen = {q: str(form.get(f"q_{q}") or "") for q in quiz.ANSWER_KEYS}
    again = {"name": name, "chosen": chosen}
    now, addr = svc.clock(), address(request)
    if await run_in_threadpool(svc.store.quiz_throttled, view.target.uscc, name, addr, now, svc.limits):
        return _quiz_page(request, svc, view, 429, message="提交太频繁，请休息几分钟后再试。", **again)

    async def refuse(status: int, reason: str, message: str, **more: Any) -> Response:
        await run_in_threadpool(svc.store.quiz_refused, view, name, reason, now, addr)  # counts as an attempt
        return _quiz_page(request, svc, view, status, message=message, **again, **more)

    phones = [p for n, p in view.employees if n == name]
    if not phones:
        return await refuse(400, "姓名不在岗位人员名单中", "请在名单中选择您的姓名。")
    if not any(p for p in phones):
        return await refuse(400, "名单中没有手机号", "岗位人员名单中没有您的手机号，无法手机确认。"
                            "请请安全员在台账“岗位人员”表中补填后再试。")
    if not (len(digits) == 4 and digits.isdigit() and any(p.endswith(digits) for p in phones if len(p) >= 4)):
        return await refuse(400, "手机号后四位不符", "手机号后四位与岗位人员名单不一致，请核对后再试。")
    questions = _questions(svc, view)
    wrong = quiz.wrong_answers(questions, chosen)
    if wrong:
        return await refuse(200, f"答错 {len(wrong)} 题", f"有 {len(wrong)} 题答得不对。请再读一遍下面标出的告知卡内容，然后重新作答。",
                            wrong=[q.key for q in wrong])
    cid, created = await run_in_threadpool(svc.store.confirm, view, name, now, addr)
    return svc.page(request, "confirmed.html", view=view, name=name, day=now.date(), created=created, number=cid)


# --- the public: an enterprise's page -------------------------------------------------------------

async def enterprise_page(request: Request) -> Response:
    svc = _svc(request)
    target = await run_in_threadpool(svc.store.resolve, "e", request.path_params["token"])
    view = await run_in_threadpool(svc.store.public_view, target) if target else None
    if view is None:
        return svc.error(request, 404, "二维码无效", "没有找到这家企业。二维码可能已经过期。")
    return svc.page(request, "enterprise.html", view=view, token=request.path_params["token"])


async def enterprise_map(request: Request) -> Response:
    svc = _svc(request)
    target = await run_in_threadpool(svc.store.resolve, "e", request.path_params["token"])
    view = await run_in_threadpool(svc.store.public_view, target) if target else None
    if view is None:
        raise HTTPException(404)
    png = await run_in_threadpool(svc.store.risk_map, view)
    return Response(png, media_type="image/png")


async def home(request: Request) -> Response:
    svc = _svc(request)
    await svc.user(request)
    return svc.page(request, "home.html")


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name != "site.css":
        raise HTTPException(404)
    return Response((STATIC / name).read_bytes(), media_type="text/css",
                    headers={"cache-control": "public, max-age=3600"})


# --- county staff -----------------------------------------------------------------------------------

async def login(request: Request) -> Response:
    svc = _svc(request)
    if request.method == "GET":
        return svc.page(request, "login.html", message="", username="")
    form = await request.form()
    refused = await svc.check_form(request, form, "login")
    if refused:
        return svc.error(request, 403, "无法提交", refused)
    username = str(form.get("username") or "").strip()[:40]
    password = str(form.get("password") or "")
    addr, now, limits = address(request), svc.clock(), svc.limits
    if await run_in_threadpool(svc.store.login_throttled, username, addr, now, limits.login_failures, limits.login_window):
        await run_in_threadpool(svc.store.audit, username or "-", LOGIN_THROTTLED, username, "", addr, now)
        minutes = max(round(limits.login_window / 60), 1)
        return svc.page(request, "login.html", 429, message=f"登录失败次数过多，请 {minutes} 分钟后再试。", username=username)
    user = await run_in_threadpool(svc.store.user, username)
    ok = user is not None and await run_in_threadpool(verify_password, user.password_hash, password)
    if user is None:
        await run_in_threadpool(burn_time, password)
    if not ok or user is None:  # audited: the throttle counts these (in every process on the archive)
        await run_in_threadpool(svc.store.audit, username or "-", LOGIN_FAILED, username, "", addr, now)
        return svc.page(request, "login.html", 401, message="用户名或密码不对。", username=username)
    assert user is not None
    await run_in_threadpool(svc.store.audit, username, LOGIN_OK, username, user.scope, addr, now)
    response = RedirectResponse("/staff", status_code=303)
    response.set_cookie(SESSION_COOKIE, svc.sessions.dump(username, generation(user.password_hash)), httponly=True,
                        samesite="lax", secure=svc.secure_cookies, max_age=svc.sessions.max_age)
    return response


async def logout(request: Request) -> Response:
    svc = _svc(request)
    form = await request.form()
    refused = await svc.check_form(request, form, "logout")
    if refused:
        return svc.error(request, 403, "无法提交", refused)
    user = await svc.user(request)
    if user is not None:
        await run_in_threadpool(svc.store.audit, user.username, "logout", user.username, "", address(request), svc.clock())
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def staff(handler: Callable) -> Callable:
    """Only for logged-in staff; anonymous users go to the login page."""

    async def wrapped(request: Request) -> Response:
        svc = _svc(request)
        user = await svc.user(request)
        if user is None:
            return RedirectResponse("/staff/login", status_code=303)
        return await handler(request, svc, user)

    wrapped.__name__ = handler.__name__
    return wrapped


@staff
async def staff_list(request: Request, svc: Service, user: Any) -> Response:
    as_of = svc.today()
    rows = (await run_in_threadpool(svc.store.rollup, user.county, as_of)).enterprises
    q = request.query_params.get("q", "").strip()
    township = request.query_params.get("township", "")
    industry = request.query_params.get("industry", "")
    flag = request.query_params.get("flag", "")
    shown = [r for r in rows
             if (not q or q in r.name or q.upper() in r.uscc) and (not township or r.township == township)
             and (not industry or r.industry == industry)
             and (flag != "not_effective" or r.not_effective) and (flag != "overdue" or r.hazards_overdue > 0)]
    return svc.page(request, "staff_list.html", rows=shown, total=len(rows), q=q, township=township, industry=industry,
                    flag=flag, flags=FLAGS, townships=sorted({r.township for r in rows if r.township}),
                    industries=sorted({r.industry for r in rows if r.industry}), as_of=as_of)


@staff
async def staff_enterprise(request: Request, svc: Service, user: Any) -> Response:
    uscc = request.path_params["uscc"].upper()
    shown = request.query_params.get("s", "")
    view = await run_in_threadpool(svc.store.enterprise_file, user.county, uscc, svc.today(),
                                   int(shown) if shown.isdigit() else None)
    if view is None:
        return svc.error(request, 404, "没有这家企业", "档案中没有这家企业，或它不属于您的辖区。")
    return svc.page(request, "staff_enterprise.html", f=view, as_of=svc.today())


@staff
async def staff_hazards(request: Request, svc: Service, user: Any) -> Response:
    kind = request.path_params["kind"]
    if kind not in ("overdue", "majors"):
        raise HTTPException(404)
    summary = await run_in_threadpool(lambda: svc.store.rollup(user.county, svc.today(), confirmations=False))
    return svc.page(request, "staff_hazards.html", kind=kind, rows=summary.overdue if kind == "overdue" else summary.majors,
                    title="逾期未整改隐患" if kind == "overdue" else "未销号重大事故隐患", as_of=svc.today())


@staff
async def staff_enforcement(request: Request, svc: Service, user: Any) -> Response:
    """重点检查企业: the enterprises with a breach, by 分值, in the order of the summary's sheet."""
    summary = await run_in_threadpool(svc.store.rollup, user.county, svc.today())
    return svc.page(request, "staff_enforcement.html", rows=summary.enforcement(), as_of=svc.today(),
                    submitted={r.uscc for r in summary.enterprises})


@staff
async def staff_missing(request: Request, svc: Service, user: Any) -> Response:
    rows = await run_in_threadpool(svc.store.missing, user.county, svc.today())
    return svc.page(request, "staff_missing.html", rows=rows)


@staff
async def staff_audit(request: Request, svc: Service, user: Any) -> Response:
    """The audit log (who, when, what): province accounts only."""
    if user.county is not None:
        return svc.error(request, 404, "页面不存在", "审计日志只对省级账号开放。")
    rows = await run_in_threadpool(svc.store.archive.audit_log, 500)
    return svc.page(request, "staff_audit.html", rows=rows)


def _attachment(content: bytes, filename: str, media_type: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@staff
async def staff_download(request: Request, svc: Service, user: Any) -> Response:
    what = request.path_params["what"]
    if what not in ("summary.xlsx", "report.docx"):
        raise HTTPException(404)
    as_of = svc.today()

    def build() -> bytes:
        from dpsheets.county.summary_book import write_summary
        from dpsheets.county.summary_report import write_report

        rollup = svc.store.summary(user.county, as_of)
        title = f"{user.scope}小微企业双重预防体系运行情况汇总"
        with tempfile.TemporaryDirectory(prefix="dpsheets-web-") as tmp:
            target = Path(tmp) / what
            (write_summary if what == "summary.xlsx" else write_report)(rollup, target, title)
            return target.read_bytes()

    content = await run_in_threadpool(build)
    name = f"{'汇总' if what == 'summary.xlsx' else '汇总报告'}_{user.scope}_{as_of.isoformat()}.{what.rsplit('.', 1)[1]}"
    return _attachment(content, name, XLSX if what.endswith("xlsx") else DOCX)


@staff
async def staff_enterprise_download(request: Request, svc: Service, user: Any) -> Response:
    uscc = request.path_params["uscc"].upper()
    what = request.path_params["what"]
    as_of = svc.today()
    view = await run_in_threadpool(svc.store.enterprise_file, user.county, uscc, as_of)
    if view is None or what not in ("confirmations.xlsx", "documents.zip"):
        return svc.error(request, 404, "没有这家企业", "档案中没有这家企业，或它不属于您的辖区。")
    if what == "confirmations.xlsx":
        def export() -> bytes:
            from dpsheets.county.confirmations import export as write

            with tempfile.TemporaryDirectory(prefix="dpsheets-web-") as tmp:
                path, _ = write(svc.store.archive, uscc, Path(tmp) / "c.xlsx")
                return path.read_bytes()

        return _attachment(await run_in_threadpool(export), f"答题确认记录_{view.name}.xlsx", XLSX)
    original = await run_in_threadpool(svc.store.stored_original, uscc)
    if original is None:
        return svc.error(request, 404, "没有原始台账", "找不到这家企业最近一次报送的原始台账文件（已处理/ 文件夹），无法生成文书。")

    def documents() -> bytes:
        from dataclasses import replace

        from dpsheets.pipeline import DocOptions, pipeline

        config = replace(svc.store.config, qr_secret=svc.store.qr_secret,  # the codes open this service
                         qr_base_url=svc.store.config.qr_base_url or str(request.base_url).rstrip("/"))
        with tempfile.TemporaryDirectory(prefix="dpsheets-web-") as tmp:
            result = pipeline(original, as_of=as_of, config=config, highlight=False, documents_dir=Path(tmp),
                              doc_options=DocOptions())
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                for f in result.documents:
                    z.write(f, f.name)
            return buffer.getvalue()

    return _attachment(await run_in_threadpool(documents), f"文书_{view.name}.zip", "application/zip")


async def not_found(request: Request, exc: Exception) -> Response:
    svc = _svc(request)
    status = getattr(exc, "status_code", 404)
    return svc.error(request, status, "页面不存在" if status == 404 else "出错了", "请检查网址，或重新扫描二维码。")


async def server_error(request: Request, exc: Exception) -> Response:
    return HTMLResponse("<!doctype html><meta charset=utf-8><title>出错了</title><p>服务器出错了，请稍后再试。</p>", 500)


def create_app(archive: str | Path, *, config: Config | None = None, roster: str | Path | None = None,
               clock: Callable[[], datetime] = datetime.now, limits: Limits | None = None,
               templates_dir: str | Path | None = None, secure_cookies: bool = False,
               folder: str | Path | None = None) -> Starlette:
    """The ASGI application on *archive*: an SQLite file (created if missing) or a postgresql:// URL.

    *folder* is the county's watch folder, whose 已处理/ keeps the original workbooks (the documents download);
    by default the archive file's folder. Several applications (processes, uvicorn workers) may serve one
    archive: everything they share, throttling included, is kept in it.
    """
    store = Store(archive, config or Config(), Path(roster) if roster else None, Path(folder) if folder else None)
    service = Service(store, clock, limits or Limits(), templates_dir, secure_cookies)
    routes = [
        Route("/", home),
        Route("/static/{name}", static),
        Route("/p/{token}", post_page, methods=["GET", "POST"]),
        Route("/e/{token}", enterprise_page),
        Route("/e/{token}/map.png", enterprise_map),
        Route("/staff/login", login, methods=["GET", "POST"]),
        Route("/staff/logout", logout, methods=["POST"]),
        Route("/staff", staff_list),
        Route("/staff/enterprise/{uscc}", staff_enterprise),
        Route("/staff/enterprise/{uscc}/{what}", staff_enterprise_download),
        Route("/staff/enforcement", staff_enforcement),
        Route("/staff/hazards/{kind}", staff_hazards),
        Route("/staff/missing", staff_missing),
        Route("/staff/audit", staff_audit),
        Route("/staff/download/{what}", staff_download),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(service.store.refresh_tokens)  # the first scan need not build the token table
        yield
        service.store.close()

    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan,
                    exception_handlers={HTTPException: not_found, 500: server_error})
    app.state.service = service
    return app
