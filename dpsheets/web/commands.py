"""The web service's commands: ``dpsheets serve``, ``dpsheets user …`` and
``dpsheets archive confirmations`` (registered on the main command group in :mod:`dpsheets.cli`)."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from dpsheets.config import Config, load_config
from dpsheets.errors import DpsheetsError

ARCHIVE_FILE = "档案.sqlite"


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def archive_file(value: str | Path, must_exist: bool = True) -> Path | str:
    """An archive file, a watch folder holding 档案.sqlite, or a postgresql:// URL (as it is)."""
    from dpsheets.county.database import is_url

    if is_url(value):
        return str(value)
    path = Path(value)
    if path.is_dir():
        path = path / ARCHIVE_FILE
    if must_exist and not path.is_file():
        raise DpsheetsError("archive.missing", f"找不到档案库 {path}。请用 --archive 指定档案库文件、watch 文件夹"
                            "或 postgresql:// 数据库地址。")
    return path


def with_qr_secret(config: Config, archive_path: str) -> Config:
    """*config* with the archive's QR secret (``dpsheets docs --archive``): the printed codes open ``dpsheets serve``."""
    from dataclasses import replace

    from dpsheets.county.archive import Archive
    from dpsheets.web.store import QR_SECRET

    with Archive(archive_file(archive_path)) as a:
        return replace(config, qr_secret=a.secret(QR_SECRET))


archive_option = click.option("--archive", "archive_path", default=None, metavar="PATH|URL",
                              help="档案库文件、watch 的文件夹（使用其中的 档案.sqlite），或 postgresql:// 数据库地址"
                                   "（也可用环境变量 DPSHEETS_ARCHIVE 或配置项 archive）；默认 ./档案.sqlite。")


def _target(given: str | None, config: Config | None = None) -> str | Path:
    """--archive, else $DPSHEETS_ARCHIVE, else ``archive`` in dpsheets.toml, else ./档案.sqlite."""
    from dpsheets.county.database import resolve_target

    return resolve_target(given, config.archive if config else "", Path(ARCHIVE_FILE)) or ARCHIVE_FILE


@click.command()
@archive_option
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址；对外服务请放在 HTTPS 反向代理之后。")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--roster", "roster_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="应报企业名单（“未报送企业”页面用）。")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="县里自己的网页模板文件夹（同名文件覆盖自带模板）。")
@click.option("--https", "secure_cookies", is_flag=True, help="经 HTTPS 反向代理提供服务：Cookie 只在 HTTPS 下发送。")
@click.option("--folder", "folder", type=click.Path(file_okay=False, exists=True), default=None,
              help="watch 的文件夹（其 已处理/ 中的原始台账用于下载文书）；默认是档案库文件所在的文件夹。")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help="配置文件 dpsheets.toml。")
def serve(archive_path: str | None, host: str, port: int, roster_path: str | None, templates_dir: str | None,
          secure_cookies: bool, folder: str | None, config_path: str | None) -> None:
    """县区网页服务：扫码查看岗位告知卡并手机答题确认（一题）、企业风险公告（一码）、县区工作人员查看档案。

    与 watch 可以同时运行在同一个档案库上；多个 serve 进程也可以共用一个档案库（登录和答题的次数限制记在档案库里）。
    工作人员账号用 `dpsheets user add` 创建。
    """
    import uvicorn

    from dpsheets.county.database import display
    from dpsheets.web.app import create_app

    config = load_config(config_path)
    path = archive_file(_target(archive_path, config))
    app = create_app(path, config=config, roster=roster_path, templates_dir=templates_dir,
                     secure_cookies=secure_cookies, folder=folder)
    _console().print(f"网页服务：http://{host}:{port}/  档案库 [cyan]{escape(display(path))}[/]（按 Ctrl-C 停止）。"
                     "打印的二维码要指向本服务，请在 dpsheets.toml 中设置 qr_base_url，并用 `dpsheets docs --archive` 生成文书。")
    uvicorn.run(app, host=host, port=port, proxy_headers=True, forwarded_allow_ips="127.0.0.1", log_level="warning")


@click.group()
@archive_option
@click.pass_context
def user(ctx: click.Context, archive_path: str | None) -> None:
    """管理网页服务的县区工作人员账号：add 新建、passwd 改密码、remove 删除、list 列出。"""
    from dpsheets.county.archive import Archive

    ctx.obj = Archive(archive_file(_target(archive_path), must_exist=False))
    ctx.call_on_close(ctx.obj.close)


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次")


password_stdin = click.option("--password-stdin", is_flag=True, help="从标准输入读取密码（用于脚本）。")


@user.command("add")
@click.argument("username")
@click.option("--county", default=None, help="所属县（市、区）：只能看本县企业。")
@click.option("--province", is_flag=True, help="省级账号：可看全部县区。")
@password_stdin
@click.pass_obj
def user_add(db, username: str, county: str | None, province: bool, password_stdin: bool) -> None:  # noqa: ANN001
    """新建账号 USERNAME（必须指定 --county 县名 或 --province）。"""
    from dpsheets.county import users

    if bool(county) == province:
        raise DpsheetsError("user.scope", "请指定账号范围：--county 县名（只看本县）或 --province（全省）。")
    u = users.add(db, username, _password(password_stdin), None if province else county, now=datetime.now())
    _console().print(f"已新建账号 {escape(u.username)}（{escape(u.scope)}）。")


@user.command("passwd")
@click.argument("username")
@password_stdin
@click.pass_obj
def user_passwd(db, username: str, password_stdin: bool) -> None:  # noqa: ANN001
    """修改 USERNAME 的密码（该账号已登录的会话随即失效）。"""
    from dpsheets.county import users

    users.set_password(db, username, _password(password_stdin), now=datetime.now())
    _console().print(f"已修改 {escape(username)} 的密码。")


@user.command("remove")
@click.argument("username")
@click.pass_obj
def user_remove(db, username: str) -> None:  # noqa: ANN001
    """删除账号 USERNAME。"""
    from dpsheets.county import users

    users.remove(db, username, now=datetime.now())
    _console().print(f"已删除账号 {escape(username)}。")


@user.command("list")
@click.pass_obj
def user_list(db) -> None:  # noqa: ANN001
    """列出全部账号和范围。"""
    from dpsheets.county import users

    for u in users.all_users(db):
        click.echo(f"{u.username}\t{u.scope}")


@click.command("confirmations")
@click.argument("uscc")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="导出的 Excel 文件，默认 答题确认记录_代码.xlsx。")
@click.option("--since", default=None, metavar="DATE", help="只导出这一天及以后的确认。")
@click.pass_obj
def archive_confirmations(county, uscc: str, output: str | None, since: str | None) -> None:  # noqa: ANN001
    """把某企业的手机答题确认导出为“答题确认记录”表（可直接粘贴进台账）。"""
    from dpsheets.county.confirmations import export
    from dpsheets.workbook.normalize import parse_date

    db = county.archive
    uscc = uscc.strip().upper()
    if db.latest(uscc) is None:
        raise DpsheetsError("archive.unknown", f"档案中没有统一社会信用代码为 {uscc} 的企业。用 `dpsheets archive list` 查看全部企业。")
    start: date | None = None
    if since:
        start = parse_date(since)
        if start is None:
            raise click.BadParameter(f"“{since}”不是日期，请写成 2026-11-28 的形式。")
    path, n = export(db, uscc, Path(output or f"答题确认记录_{uscc}.xlsx"), start)
    _console().print(f"已导出 {n} 条答题确认：[cyan]{escape(str(path))}[/]")
