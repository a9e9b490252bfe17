"""The ``dpsheets`` command: options in, library calls, output out — no logic of its own.

The per-file work is :func:`dpsheets.pipeline.pipeline`; the county side (folders, archive,
roll-ups, output names, rosters) is :mod:`dpsheets.county.county`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from dpsheets import __version__
from dpsheets.config import Config, load_config
from dpsheets.documents import kinds as document_kinds
from dpsheets.errors import EXIT_CANCELLED, EXIT_CODES, EXIT_FATAL, DpsheetsError
from dpsheets.feedback.console import print_notices, print_result, to_json
from dpsheets.feedback.terminal import Out
from dpsheets.pipeline import COMMAND, DocOptions, FileResult, pipeline, workbook_files
from dpsheets.workbook.normalize import parse_date

if TYPE_CHECKING:
    from rich.console import Console


def _console() -> Console:
    """rich, for tables only (imported when one is shown); everything else prints through :class:`Out`."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:  # piped or redirected: tables whole, not cut to 80 columns
        console.width = max(console.width, 200)
    return console


def _error(message: str) -> None:
    Out(stderr=True).print(("bold red", "错误："), message)


def _is_environmental(exc: BaseException) -> bool:
    """An OSError or a SQLite error (sqlite3 is not imported to ask: a check never loads it)."""
    sqlite3 = sys.modules.get("sqlite3")
    return isinstance(exc, OSError) or sqlite3 is not None and isinstance(exc, sqlite3.Error)


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> date:
    if value is None:
        return date.today()  # the only place the clock is read: the CLI's default
    parsed = parse_date(value)
    if parsed is None:
        raise click.BadParameter(f"“{value}”不是日期，请写成 2026-11-28 的形式。")
    return parsed


def _config(path: str | None) -> Config:
    return load_config(path)


as_of_option = click.option("--as-of", "as_of", callback=_as_of, metavar="DATE",
                            help="按哪一天检查（逾期、临期、未来日期都相对这一天），默认今天。")
config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                             help="配置文件 dpsheets.toml（风险阈值、临期天数、二维码地址、汇总规则）。")


def _paper_option(help_text: str):  # noqa: ANN202
    from dpsheets.config import PAPERS

    return click.option("--paper", type=click.Choice(PAPERS, case_sensitive=False), default=None, help=help_text)


def _with_paper(config: Config, paper: str | None) -> Config:
    """The configuration with ``--paper`` (A4/A3) in place of ``[print] paper``."""
    from dataclasses import replace

    from dpsheets.config import PrintSetup

    return replace(config, print=PrintSetup(paper.upper())) if paper else config


EXIT_HELP = "退出码：\n\n\b\n" + "\n".join(f"  {code:<4}{text}" for code, text in EXIT_CODES.items())


class Command(click.Command):
    """A command whose :class:`DpsheetsError` becomes its Chinese message on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DpsheetsError as exc:
            _error(str(exc))
            ctx.exit(exc.exit_code)
        except Exception as exc:  # disk full, a folder not writable, a share gone: named, no traceback
            from dpsheets.fsutil import environment_error

            env = environment_error(exc, archive=Path("档案库")) if _is_environmental(exc) else None
            if env is None:
                raise
            _error(env.message)
            ctx.exit(env.exit_code)


class Group(click.Group):
    """A group whose :class:`DpsheetsError` becomes its message, and whose *lazy* commands
    (name → ``module:attribute``) are imported only when used: ``dpsheets check`` never loads the
    web service."""

    command_class = Command

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            import importlib

            module, attribute = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DpsheetsError as exc:  # raised by a group callback (archive --archive ...)
            _error(str(exc))
            ctx.exit(exc.exit_code)


Group.group_class = Group


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(__version__, prog_name="dpsheets")
def cli() -> None:
    """dpsheets：小微企业双重预防体系 Excel 台账的检查、打印、归档和汇总工具。"""


def main() -> None:
    # A workbook that makes calamine panic is reported in Chinese; Rust must not add pages of frames to it.
    os.environ["RUST_BACKTRACE"] = "0"
    try:
        code = cli.main(standalone_mode=False)  # returns ctx.exit()'s code instead of exiting with it
    except click.exceptions.Abort:
        Out(stderr=True).print("已取消。")
        sys.exit(EXIT_CANCELLED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DpsheetsError as exc:  # pragma: no cover - commands turn these into exits (Command.invoke)
        _error(str(exc))
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="双重预防体系台账.xlsx", show_default=True,
              help="模板保存位置。")
@click.option("--name", help="预先填好的企业名称。")
@click.option("--uscc", help="预先填好的统一社会信用代码。")
@click.option("--county", help="预先填好的所属县（市、区）。")
@_paper_option("宽表的打印纸张：A4（默认，两页宽）或 A3（一页宽）；默认取配置 [print] paper。")
@config_option
def template(output: str, name: str | None, uscc: str | None, county: str | None, paper: str | None,
             config_path: str | None) -> None:
    """生成空白的标准台账（带下拉选项、填表说明和打印设置）。"""
    from dpsheets.workbook.template import write_workbook

    config = _with_paper(_config(config_path), paper)
    enterprise = {k: v for k, v in (("name", name), ("uscc", uscc), ("county", county)) if v}
    path = write_workbook(output, enterprise, due_soon_days=config.due_soon_days, paper=config.print.paper)
    Out().print("已生成标准台账：", ("cyan", str(path)))


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="标准台账.xlsx", show_default=True,
              help="转换后的标准台账。")
@click.option("--name", help="企业名称（原台账没有时填写）。")
@click.option("--uscc", help="统一社会信用代码。")
@click.option("--county", help="所属县（市、区）。")
@config_option
def convert(files: tuple[str, ...], output: str, name: str | None, uscc: str | None, county: str | None,
            config_path: str | None) -> None:
    """把企业现有的台账 FILES（可多个，如风险一本、隐患一本；也可是 .xls）转换成标准台账。

    标准台账中的“转换说明”表列出原台账每一列的去向（或未转换的原因）和每一处改写的值。
    """
    from dpsheets.workbook.convert import NOTES_SHEET
    from dpsheets.workbook.convert import convert as run

    result = run(files, output, {"name": name, "uscc": uscc, "county": county}, _config(config_path))
    read = "、".join(f"{sheet} {n} 条" for sheet, n in result.counts.items()) or "没有记录"
    out = Out()
    out.print("已转换为标准台账：", ("cyan", str(result.output)), f"（{read}）；改写的值 {len(result.rewrites)} 处，"
              f"未转换的列 {len(result.dropped)} 个，详见“{NOTES_SHEET}”表。")
    if result.not_converted:
        out.print(f"原台账中没有{''.join(f'“{s}”' for s in result.not_converted)}：已写成空表，"
                  "补填之前检查时按“台账不全”提示。")


@cli.command()
@click.argument("files", nargs=-1, required=True)
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="每个文件输出一行 JSON（供其他程序读取）。")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=None,
              help="标注副本的保存文件夹（默认放在原文件旁边）。")
@click.option("--no-highlight", is_flag=True, help="不生成标注副本。")
@click.option("--brief", is_flag=True, help="每个文件只显示一行结论（成批检查时用）。")
@config_option
def check(files: tuple[str, ...], as_of: date, as_json: bool, output_dir: str | None, no_highlight: bool, brief: bool,
          config_path: str | None) -> None:
    """检查台账 FILES（可以是文件或文件夹），列出每一处问题并生成标注副本。

    退出码：0 没有错误；1 有数据错误；2 有文件无法读取。
    """
    config = _config(config_path)
    paths = workbook_files(files)
    out_dir = Path(output_dir) if output_dir else None
    out = Out()
    results = run_many(paths, lambda p: pipeline(p, as_of=as_of, config=config, out_dir=out_dir,
                                                    highlight=not no_highlight, reader=COMMAND),
                       show_progress=len(paths) > 1)
    for result in results:
        if as_json:
            click.echo(to_json(result))
        else:
            print_result(result, out, brief=brief)
    if not as_json and len(results) > 1:
        _print_totals(results, out)
    sys.exit(max((r.exit_code for r in results), default=EXIT_FATAL))


@contextmanager
def _progress(label: str, total: int | None, *, show: bool = True, named: bool = False) -> Iterator[Callable[..., None]]:
    """A transient progress bar on stderr when *show* and stderr is a terminal; yields its ``update(**fields)``
    (rich's ``Progress.update``). Otherwise nothing is shown and rich is not imported."""
    if not (show and Out(stderr=True).is_terminal):
        yield lambda **fields: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, *([TextColumn("{task.description}")] if named else []),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("", total=total)
        yield lambda **fields: progress.update(task, **fields)


def run_many(paths: list[Path], work: Callable[[Path], FileResult], *, show_progress: bool) -> list[FileResult]:
    results = []
    with _progress("处理中", len(paths), show=show_progress, named=True) as update:
        for path in paths:
            update(description=path.name)
            results.append(work(path))
            update(advance=1)
    return results


def _print_totals(results: list[FileResult], out: Out) -> None:
    unreadable = sum(r.error is not None for r in results)
    with_errors = sum(r.exit_code == 1 for r in results)
    ok = len(results) - unreadable - with_errors
    out.print(f"\n共 {len(results)} 个文件：通过 ", ("green", str(ok)), "，有错误 ", ("red", str(with_errors)),
              "，无法读取 ", ("red", str(unreadable)), "。")


def _quarter(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    text = value.upper().replace("-", "").replace(" ", "")
    if len(text) == 6 and text[:4].isdigit() and text[4] == "Q" and text[5] in "1234":
        return int(text[:4]), int(text[5])
    raise click.BadParameter(f"“{value}”不是季度，请写成 2026Q3 的形式。")


KIND_CHOICES = document_kinds.KEYS


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default="打印", show_default=True,
              help="文书保存文件夹；多个台账时每个台账一个子文件夹。")
@as_of_option
@click.option("--split", is_flag=True, help="另外为每张卡、每份通知单独生成一个文件。")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 转换为 PDF（需已安装）。")
@click.option("--quarter", callback=_quarter, metavar="2026Q3", help="季度统计表的季度，默认上一个完整季度。")
@click.option("--only", "kinds", multiple=True, type=click.Choice(KIND_CHOICES),
              help="只生成某几种文书（可重复），默认全部：" + "、".join(f"{k.key} {k.title}" for k in document_kinds.KINDS) + "。")
@click.option("--archive", "archive_path", type=click.Path(), default=None,
              help="县里的档案库：配置了 qr_base_url 时，二维码打开 `dpsheets serve` 上的本企业、本岗位页面。")
@_paper_option("纸张：A4（默认）或 A3（风险公告栏印在 A3 上，分布图更大）；默认取配置 [print] paper。")
@click.option("--json", "as_json", is_flag=True, help="每个台账输出一行 JSON（供其他程序读取）。")
@config_option
def docs(files: tuple[str, ...], output_dir: str, as_of: date, split: bool, pdf: bool,
         quarter: tuple[int, int] | None, kinds: tuple[str, ...], archive_path: str | None, paper: str | None,
         as_json: bool, config_path: str | None) -> None:
    """由台账生成可打印的 Word 文书：告知卡、每人一张清单、整改通知书、逾期催办、重大隐患报告、风险公告栏、季度统计表。

    每种文书合成一个文件，一项一页，便于成批打印；每份都带企业二维码（一企一码）。
    """
    config = _with_paper(_config(config_path), paper)
    if archive_path and config.qr_base_url:
        from dpsheets.web.commands import with_qr_secret

        config = with_qr_secret(config, archive_path)
    elif config.qr_base_url and not config.qr_secret:
        Out(stderr=True).print(("yellow", "配置了 qr_base_url，但没有用 --archive 指定县里的档案库：二维码内容为文字，"
                                          "扫码不会打开网页服务。"))
    paths = workbook_files(files)
    out = Path(output_dir)
    options = DocOptions(kinds=kinds or None, split=split, pdf=pdf, quarter=quarter)
    console = Out()
    results = run_many(paths, lambda p: pipeline(
        p, as_of=as_of, config=config, highlight=False, doc_options=options,
        documents_dir=out if len(paths) == 1 else out / p.stem, reader=COMMAND), show_progress=len(paths) > 1)
    for result in results:
        if as_json:
            click.echo(to_json(result))
        else:
            print_result(result, console, limit=20)
    if not as_json:
        print_notices(results, console)
    sys.exit(max((r.exit_code for r in results), default=EXIT_FATAL))


@cli.command()
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default="dpsheets-demo", show_default=True,
              help="示例文件的保存文件夹。")
@as_of_option
def demo(output_dir: str, as_of: date) -> None:
    """生成一个小型机械厂的示例台账（含几处典型错误和逾期隐患），检查它并展示结果。"""
    from dpsheets.workbook.samples import plant
    from dpsheets.workbook.template import write_workbook

    out = Path(output_dir)
    sample = plant(as_of, mistakes=True)
    workbook = write_workbook(out / "示例台账_宏达机械.xlsx", sample.enterprise, sample.rows, layout=sample.layout)
    write_workbook(out / "空白台账模板.xlsx")
    console = Out()
    console.print("已生成示例台账 ", ("cyan", str(workbook)), f"（检查日 {as_of.isoformat()}）\n")
    result = pipeline(workbook, as_of=as_of, config=Config(), out_dir=out, documents_dir=out / "打印", reader=COMMAND)
    print_result(result, console)
    print_notices([result], console)
    console.print("\n用 Excel 或 WPS 打开标注副本：出错的格标成红色并附批注，逾期隐患整行标红，临期标橙，"
                  "“检查结果”表列出全部问题并可点击跳转。“打印”文件夹里是带二维码的告知卡、整改通知书等 Word 文书。")


# --- shared folders and the archive ------------------------------------------------------------

folder_argument = click.argument("folder", type=click.Path(file_okay=False))
archive_option = click.option("--archive", "archive_path", default=None, metavar="PATH|URL",
                              help="档案库：SQLite 文件，或 PostgreSQL 数据库地址 postgresql://用户@服务器/数据库"
                                   "（也可用环境变量 DPSHEETS_ARCHIVE 或配置项 archive），默认是文件夹里的 档案.sqlite。")


def _county(folder: str, config_path: str | None, archive_path: str | None):  # noqa: ANN202
    from dpsheets.county.county import County

    return County(folder, config=_config(config_path), archive=archive_path)


def _log_outcome(console: Out):  # noqa: ANN202
    from datetime import datetime

    def report(outcome) -> None:  # noqa: ANN001
        style = "green" if outcome.destination == "已处理" else "red"
        console.print(("dim", f"{datetime.now():%H:%M:%S}"), " ", (style, outcome.line()))

    return report


def _log_alert(console: Out):  # noqa: ANN202
    from datetime import datetime

    def alert(a) -> None:  # noqa: ANN001
        console.print(("dim", f"{datetime.now():%H:%M:%S}"), " ", ("bold yellow", a.line()))

    return alert


def _optional_as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    return None if value is None else _as_of(ctx, param, value)


@cli.command()
@folder_argument
@click.option("--poll", type=float, default=None, metavar="SECONDS",
              help="每隔几秒轮询一次（网络共享文件夹请用它，inotify 在 SMB/NFS 上收不到变化）。")
@click.option("--as-of", "as_of", callback=_optional_as_of, metavar="DATE", help="按哪一天检查，默认每个文件到达的当天。")
@click.option("--settle", type=float, default=0.5, show_default=True, help="文件大小和修改时间保持不变多少秒才处理。")
@click.option("--no-docs", is_flag=True, help="不生成告知卡等文书（更快）。")
@archive_option
@config_option
def watch(folder: str, poll: float | None, as_of: date | None, settle: float, no_docs: bool, archive_path: str | None,
          config_path: str | None) -> None:
    """持续监控文件夹 FOLDER：放进“收件箱”的台账逐个检查、反馈、归档（Ctrl-C 停止）。"""
    county = _county(folder, config_path, archive_path)
    console = Out()
    how = f"轮询每 {poll:g} 秒" if poll else "文件系统事件"
    try:
        county.watch(as_of=as_of, documents=not no_docs, poll=poll, settle=settle, report=_log_outcome(console),
                     alert=_log_alert(console),
                     started=lambda: console.print("正在监控 ", ("cyan", str(county.layout.inbox)), f"（{how}），按 Ctrl-C 停止。"),
                     trouble=lambda exc: console.print(("bold red", "错误："), exc.message))
    except KeyboardInterrupt:
        console.print("已停止。")


@cli.command()
@folder_argument
@as_of_option
@click.option("--no-docs", is_flag=True, help="不生成告知卡等文书（更快）。")
@archive_option
@config_option
def ingest(folder: str, as_of: date, no_docs: bool, archive_path: str | None, config_path: str | None) -> None:
    """一次性处理文件夹 FOLDER 的“收件箱”里现有的全部台账。

    退出码：0 全部归档；1 有文件被退回（原因写在 退回/ 里的同名 .txt）；2 无法继续（如磁盘已满、文件夹无法写入，消息写明路径）。
    """
    county = _county(folder, config_path, archive_path)
    console = Out()
    with _progress("归档中", None) as update:
        outcomes = county.ingest(as_of=as_of, documents=not no_docs, report=_log_outcome(console), alert=_log_alert(console),
                                 progress=lambda i, n, p: update(completed=i, total=n))
    done = sum(o.destination == "已处理" for o in outcomes)
    console.print(f"共 {len(outcomes)} 个文件：已处理 {done}，退回 {len(outcomes) - done}。")
    sys.exit(0 if done == len(outcomes) else 1)


@cli.group(cls=Group)
@click.option("--archive", "archive_path", default=None, metavar="PATH|URL",
              help="档案库文件、watch 的文件夹（使用其中的 档案.sqlite）或 postgresql:// 数据库地址"
                   "（也可用环境变量 DPSHEETS_ARCHIVE 或配置项 archive）；默认 ./档案.sqlite。")
@click.pass_context
def archive(ctx: click.Context, archive_path: str | None) -> None:
    """一企一档数据库：list 企业清单，show 某企业最新报送，history 报送历史，export 导出 Excel，
    check 检查数据库，push 把县档案库上传到市、省数据库，alerts 重大隐患提醒。"""
    from dpsheets.county.county import County

    if ctx.invoked_subcommand == "push":
        return  # push names its own source and destination

    ctx.obj = County.open(archive_path, config=_config(None))
    ctx.call_on_close(ctx.obj.close)


output_options = [
    click.option("--json", "as_json", is_flag=True, help="输出 JSON（供其他程序读取）。"),
    click.option("--csv", "as_csv", is_flag=True, help="输出 CSV（以 = + - @ 开头的文字前加 '，防止表格软件当作公式）。"),
]


def _output_options(f):  # noqa: ANN001, ANN202
    for option in reversed(output_options):
        f = option(f)
    return f


def _rows_out(rows, columns, as_json: bool, as_csv: bool) -> None:  # noqa: ANN001
    from dpsheets.feedback.tables import format_option_values, render

    text = render(rows, columns, format_option_values(as_json, as_csv), _console())
    if text is not None:
        click.echo(text)


@archive.command("list")
@_output_options
@click.pass_obj
def archive_list(county, as_json: bool, as_csv: bool) -> None:  # noqa: ANN001
    """列出档案中的全部企业（管道输出时每行一家、制表符分隔，代码完整）。"""
    from dpsheets.workbook.registers import identity_columns

    columns = [*identity_columns(), ("submissions", "报送次数"), ("last_seen", "最近报送")]
    _rows_out(county.enterprises(), columns, as_json, as_csv)


@archive.command("history")
@click.argument("uscc")
@_output_options
@click.pass_obj
def archive_history(county, uscc: str, as_json: bool, as_csv: bool) -> None:  # noqa: ANN001
    """某企业的全部报送记录。"""
    columns = [("id", "编号"), ("received_at", "报送时间"), ("file_name", "文件"), ("template_version", "模板版本"),
               ("valid", "有效"), ("errors", "错误"), ("warnings", "提醒"), ("findings", "发现")]
    _rows_out([dict(s.__dict__) for s in county.history(uscc)], columns, as_json, as_csv)


@archive.command("show")
@click.argument("uscc")
@click.option("--as-of", "as_of", callback=_optional_as_of, metavar="DATE", help="显示这一天或之前的最近一次报送。")
@click.option("--register", type=click.Choice(["risk", "hazard", "post", "employee", "training", "drill", "quiz"]),
              default="hazard", show_default=True, help="显示哪张清单的记录。")
@_output_options
@click.pass_obj
def archive_show(county, uscc: str, as_of: date | None, register: str, as_json: bool, as_csv: bool) -> None:  # noqa: ANN001
    """某企业最近一次（或某日之前最近一次）报送的清单记录。"""
    import json

    sub = county.latest(uscc, as_of)
    records = county.records(sub, register)
    if as_json:
        click.echo(json.dumps({"submission": sub.__dict__, "records": records}, ensure_ascii=False, default=str))
        return
    if as_csv:
        keys = list(dict.fromkeys(k for r in records for k in r))
        _rows_out(records, [(k, k) for k in keys], False, True)
        return
    console = Out()
    console.print(("bold", sub.name), f"（{sub.uscc}）第 {sub.id} 号报送，{sub.received_at}，文件 {sub.file_name}："
                  f"{register} 共 {len(records)} 条")
    for r in records:
        row = r.pop("_row")
        r.pop("_register")
        console.print(f"  第 {row} 行：" + "；".join(f"{k}={v}" for k, v in r.items()))


@archive.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="档案导出.xlsx", show_default=True)
@click.pass_obj
def archive_export(county, output: str) -> None:  # noqa: ANN001
    """把企业清单和全部报送记录导出为 Excel。"""
    Out().print("已导出 ", ("cyan", str(county.export(output))))


@archive.command("check")
@click.pass_obj
def archive_check(county) -> None:  # noqa: ANN001
    """检查档案数据库的完整性（数据库自身的检查和档案的一致性规则），并列出每张表的行数。"""
    from rich.table import Table

    from dpsheets.county.archive_ops import check

    result = check(county.archive_path)
    table = Table("表", "行数")
    for name, n in result.counts.items():
        table.add_row(name, str(n))
    out = Out()
    out.print(f"档案库 {result.archive}（结构版本 {result.revision}）")
    _console().print(table)
    for problem in result.problems:
        out.print(("red", f"✗ {problem}"))
    if not result.ok:
        raise DpsheetsError("archive.damaged", f"档案库 {result.archive} 有 {len(result.problems)} 项完整性问题（见上）。"
                            "请先备份，再联系管理员修复。")
    out.print(("green", "✓ 完整性检查通过"))


@archive.command("alerts")
@as_of_option
@click.pass_obj
def archive_alerts(county, as_of: date) -> None:  # noqa: ANN001
    """重大隐患提醒：为到统计日已逾期的重大隐患发出提醒（每项只提醒一次），并把尚未写出的提醒写入“提醒”文件夹。"""
    from datetime import datetime

    console = Out()
    written = county.alerts(as_of, now=datetime.now(), alert=_log_alert(console))
    console.print(f"新写出提醒 {len(written)} 份，在 ", ("cyan", str(county.root / "提醒")), "。")


@archive.command("push")
@click.argument("source")
@click.option("--to", "destination", required=True, metavar="URL|PATH",
              help="目标档案库，一般是市、省的 PostgreSQL 数据库 postgresql://用户@服务器/数据库。")
def archive_push(source: str, destination: str) -> None:
    """把县档案库 SOURCE（档案.sqlite 或 watch 文件夹）的全部报送上传到目标数据库；重复上传不会重复添加。"""
    from dpsheets.county.archive_ops import push
    from dpsheets.county.county import archive_path

    result = push(archive_path(source), destination)
    Out().print(f"{result.source} → {result.destination}：新增报送 {result.added} 份，"
                f"目标中已有 {result.present} 份（未重复添加）；新增重大隐患提醒 {result.rows.get('alerts', 0)} 条。")


# --- county, city and province roll-up ---------------------------------------------------------

@cli.command()
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default="企业名单.xlsx", show_default=True)
def roster(output: str) -> None:
    """生成县级“应报企业名单”模板（企业名称、统一社会信用代码、乡镇、行业）。"""
    from dpsheets.county.roster import write_template

    Out().print("已生成企业名单模板：", ("cyan", str(write_template(Path(output)))))


@cli.command()
@click.option("--archive", "archives", multiple=True, metavar="PATH|URL",
              help="档案库文件、watch 文件夹或 postgresql:// 数据库地址（可重复），默认当前目录的 档案.sqlite。")
@click.option("--from", "summaries", multiple=True, type=click.Path(dir_okay=False),
              help="由下级汇总表合成上级汇总：--from 县1.xlsx 县2.xlsx …（也可重复 --from），如各县的汇总表合成市级；统计日期取自汇总表。")
@click.argument("more_summaries", nargs=-1, type=click.Path(dir_okay=False), metavar="[汇总表...]")
@click.option("--roster", "roster_path", type=click.Path(dir_okay=False), default=None, help="应报企业名单（用于统计未报送企业）。")
@as_of_option
@click.option("--level", type=click.Choice(["县", "市", "省"]), default=None,
              help="汇总级别，默认：有 --from 时为市；有 --where 时按其范围；否则为县。")
@click.option("--where", "where", default=None, metavar="城市/县区",
              help="只汇总档案库中的这一部分，如“漯河市/舞阳县”或“漯河市”（城市取自统一社会信用代码的行政区划码）。")
@click.option("--title", default=None, help="报告标题，如“舞阳县小微企业双重预防体系运行情况”。")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default="汇总", show_default=True)
@click.option("--no-report", is_flag=True, help="只生成汇总表，不生成 Word 报告。")
@click.option("--alerts-since", "alerts_since", callback=_optional_as_of, metavar="DATE",
              help="“新增重大隐患”表列出这一天之后发出的重大隐患提醒（如上一份汇总的统计日期），默认统计日期前 30 天。")
@config_option
def rollup(archives: tuple[str, ...], summaries: tuple[str, ...], more_summaries: tuple[str, ...],
           roster_path: str | None, as_of: date, level: str | None, where: str | None, title: str | None,
           output_dir: str, no_report: bool, alerts_since: date | None, config_path: str | None) -> None:
    """由档案库生成汇总表（总览、企业明细、乡镇/行业汇总、逾期和重大隐患、重点检查企业、未报送企业、报送情况、
    新增重大隐患）和 Word 报告。"""
    if more_summaries and not summaries:
        raise click.UsageError(f"“{more_summaries[0]}”：要合成的汇总表请写在 --from 之后，如 --from 县1.xlsx 县2.xlsx。")
    summaries = summaries + more_summaries
    from dpsheets.county.county import default_title, write_report, write_summary
    from dpsheets.county.county import rollup as make_rollup

    console = Out()
    result = make_rollup(archives=archives, summaries=summaries, roster=roster_path, as_of=as_of, level=level,
                         where=where, config=_config(config_path), alerts_since=alerts_since)
    for note in result.notes:
        console.print(("yellow", note))
    title = title or default_title(result)
    book = write_summary(result, output_dir, title)
    t = result.totals()
    console.print(("bold", title), f"（{result.as_of.isoformat()}）：应报 {t.expected} 家，已报 {t.submitted} 家，"
                  f"逾期隐患 {t.sums['hazards_overdue']} 项，重大隐患未销号 {t.sums['major_open']} 项，"
                  f"未有效运行 {t.not_effective} 家。")
    console.print("汇总表：", ("cyan", str(book)))
    if not no_report:
        report = write_report(result, output_dir, title, official=_config(config_path).official)
        console.print("报告：", ("cyan", str(report)))


# --- the web service (its commands live in dpsheets.web.commands, imported when used) ----------
cli.lazy.update(serve="dpsheets.web.commands:serve", user="dpsheets.web.commands:user")
cast(Group, archive).lazy.update(confirmations="dpsheets.web.commands:archive_confirmations")
