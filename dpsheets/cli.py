"""The ``dpsheets`` command: a thin layer over the library."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dpsheets import __version__
from dpsheets.config import Config, load_config
from dpsheets.errors import DpsheetsError
from dpsheets.feedback.console import print_result, to_json
from dpsheets.pipeline import EXIT_UNREADABLE, DocOptions, FileResult, pipeline
from dpsheets.workbook.normalize import parse_date
from dpsheets.workbook.sniff import is_temp_or_lock

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dpsheets")
def cli() -> None:
    """dpsheets：小微企业双重预防体系 Excel 台账的检查、打印、归档和汇总工具。"""


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        _console(stderr=True).print("已取消。")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DpsheetsError as exc:
        _console(stderr=True).print(f"[bold red]错误：[/]{escape(str(exc))}")
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="双重预防体系台账.xlsx", show_default=True,
              help="模板保存位置。")
@click.option("--name", help="预先填好的企业名称。")
@click.option("--uscc", help="预先填好的统一社会信用代码。")
@click.option("--county", help="预先填好的所属县（市、区）。")
@config_option
def template(output: str, name: str | None, uscc: str | None, county: str | None, config_path: str | None) -> None:
    """生成空白的标准台账（带下拉选项、填表说明和打印设置）。"""
    from dpsheets.workbook.template import write_workbook

    config = _config(config_path)
    enterprise = {k: v for k, v in (("name", name), ("uscc", uscc), ("county", county)) if v}
    path = write_workbook(output, enterprise, due_soon_days=config.due_soon_days)
    _console().print(f"已生成标准台账：[cyan]{escape(str(path))}[/]")


def expand_inputs(paths: Iterable[str]) -> list[Path]:
    """Files as given; folders expanded to the workbooks inside them (lock files skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in WORKBOOK_SUFFIXES
                              and not is_temp_or_lock(f) and not f.stem.endswith("_检查结果")))
        else:
            out.append(p)
    return out


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
    paths = _require_files(expand_inputs(files), files)
    out_dir = Path(output_dir) if output_dir else None
    console = _console()
    results = run_many(paths, lambda p: pipeline(p, as_of=as_of, config=config, out_dir=out_dir,
                                                    highlight=not no_highlight),
                       show_progress=len(paths) > 1)
    for result in results:
        if as_json:
            click.echo(to_json(result))
        else:
            print_result(result, console, brief=brief)
    if not as_json and len(results) > 1:
        _print_totals(results, console)
    sys.exit(max((r.exit_code for r in results), default=EXIT_UNREADABLE))


def _require_files(paths: list[Path], given: tuple[str, ...]) -> list[Path]:
    if not paths:
        raise DpsheetsError("input.none", f"在 {'、'.join(given)} 中没有找到 .xlsx 台账文件。")
    return paths


def run_many(paths: list[Path], work, *, show_progress: bool) -> list[FileResult]:  # noqa: ANN001
    err = _console(stderr=True)
    progress = Progress(TextColumn("处理中"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        TextColumn("{task.description}"), console=err, transient=True,
                        disable=not (show_progress and err.is_terminal))
    results = []
    with progress:
        task = progress.add_task("", total=len(paths))
        for path in paths:
            progress.update(task, description=path.name)
            results.append(work(path))
            progress.advance(task)
    return results


def _print_totals(results: list[FileResult], console: Console) -> None:
    unreadable = sum(r.error is not None for r in results)
    with_errors = sum(r.exit_code == 1 for r in results)
    ok = len(results) - unreadable - with_errors
    console.print(f"\n共 {len(results)} 个文件：通过 [green]{ok}[/]，有错误 [red]{with_errors}[/]，无法读取 [red]{unreadable}[/]。")


def _quarter(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    text = value.upper().replace("-", "").replace(" ", "")
    if len(text) == 6 and text[:4].isdigit() and text[4] == "Q" and text[5] in "1234":
        return int(text[:4]), int(text[5])
    raise click.BadParameter(f"“{value}”不是季度，请写成 2026Q3 的形式。")


KIND_CHOICES = ("cards", "duty_lists", "notices", "reminders", "majors", "board", "quarterly")


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default="打印", show_default=True,
              help="文书保存文件夹；多个台账时每个台账一个子文件夹。")
@as_of_option
@click.option("--split", is_flag=True, help="另外为每张卡、每份通知单独生成一个文件。")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 转换为 PDF（需已安装）。")
@click.option("--quarter", callback=_quarter, metavar="2026Q3", help="季度统计表的季度，默认上一个完整季度。")
@click.option("--only", "kinds", multiple=True, type=click.Choice(KIND_CHOICES),
              help="只生成某几种文书（可重复），默认全部。")
@config_option
def docs(files: tuple[str, ...], output_dir: str, as_of: date, split: bool, pdf: bool,
         quarter: tuple[int, int] | None, kinds: tuple[str, ...], config_path: str | None) -> None:
    """由台账生成可打印的 Word 文书：告知卡、每人一张清单、整改通知书、逾期催办、重大隐患报告、风险公告栏、季度统计表。

    每种文书合成一个文件，一项一页，便于成批打印；每份都带企业二维码（一企一码）。
    """
    config = _config(config_path)
    paths = _require_files(expand_inputs(files), files)
    out = Path(output_dir)
    options = DocOptions(kinds=kinds or None, split=split, pdf=pdf, quarter=quarter)
    console = _console()
    results = run_many(paths, lambda p: pipeline(
        p, as_of=as_of, config=config, highlight=False, doc_options=options,
        documents_dir=out if len(paths) == 1 else out / p.stem), show_progress=len(paths) > 1)
    for result in results:
        print_result(result, console, limit=20)
    sys.exit(max((r.exit_code for r in results), default=EXIT_UNREADABLE))


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
    console = _console()
    console.print(f"已生成示例台账 [cyan]{escape(str(workbook))}[/]（检查日 {as_of.isoformat()}）\n")
    result = pipeline(workbook, as_of=as_of, config=Config(), out_dir=out, documents_dir=out / "打印")
    print_result(result, console)
    console.print("\n用 Excel 或 WPS 打开标注副本：出错的格标成红色并附批注，逾期隐患整行标红，临期标橙，"
                  "“检查结果”表列出全部问题并可点击跳转。“打印”文件夹里是带二维码的告知卡、整改通知书等 Word 文书。")


# --- shared folders and the archive ------------------------------------------------------------

folder_argument = click.argument("folder", type=click.Path(file_okay=False))
archive_option = click.option("--archive", "archive_path", type=click.Path(dir_okay=False), default=None,
                              help="档案库文件，默认是文件夹里的 档案.sqlite。")


def _processor(folder: str, as_of: date | None, config_path: str | None, no_docs: bool, archive_path: str | None):  # noqa: ANN202
    from dpsheets.county.inbox import Processor

    return Processor(Path(folder), as_of=as_of, config=_config(config_path), documents=not no_docs,
                     archive_path=Path(archive_path) if archive_path else None)


def _log_outcome(console: Console):  # noqa: ANN202
    from datetime import datetime

    def report(outcome) -> None:  # noqa: ANN001
        style = "green" if outcome.destination == "已处理" else "red"
        console.print(f"[dim]{datetime.now():%H:%M:%S}[/] [{style}]{escape(outcome.line())}[/]")

    return report


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
    from dpsheets.county.watch import watch as run_watch

    processor = _processor(folder, as_of, config_path, no_docs, archive_path)
    console = _console()
    banner = f"正在监控 [cyan]{escape(str(processor.layout.inbox))}[/]（{f'轮询每 {poll:g} 秒' if poll else '文件系统事件'}），按 Ctrl-C 停止。"
    try:
        run_watch(processor, poll=poll, settle=settle, report=_log_outcome(console), started=lambda: console.print(banner))
    except KeyboardInterrupt:
        console.print("已停止。")
    finally:
        processor.close()


@cli.command()
@folder_argument
@as_of_option
@click.option("--no-docs", is_flag=True, help="不生成告知卡等文书（更快）。")
@archive_option
@config_option
def ingest(folder: str, as_of: date, no_docs: bool, archive_path: str | None, config_path: str | None) -> None:
    """一次性处理文件夹 FOLDER 的“收件箱”里现有的全部台账。"""
    from dpsheets.county.watch import ingest as run_ingest

    processor = _processor(folder, as_of, config_path, no_docs, archive_path)
    console = _console()
    err = _console(stderr=True)
    files = processor.layout.inbox_files()
    progress = Progress(TextColumn("归档中"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True, disable=not err.is_terminal)
    try:
        with progress:
            task = progress.add_task("", total=len(files))
            outcomes = run_ingest(processor, progress=lambda i, n, p: progress.update(task, completed=i),
                                  report=_log_outcome(console))
    finally:
        processor.close()
    done = sum(o.destination == "已处理" for o in outcomes)
    console.print(f"共 {len(outcomes)} 个文件：已处理 {done}，退回 {len(outcomes) - done}。")


@cli.group()
@click.option("--archive", "archive_path", type=click.Path(), default="档案.sqlite", show_default=True,
              help="档案库文件，或 watch 的文件夹（使用其中的 档案.sqlite）。")
@click.pass_context
def archive(ctx: click.Context, archive_path: str) -> None:
    """查看一企一档数据库：list 企业清单，show 某企业最新报送，history 报送历史，export 导出 Excel。"""
    path = Path(archive_path)
    if path.is_dir():
        path = path / "档案.sqlite"
    if not path.is_file():
        raise DpsheetsError("archive.missing", f"找不到档案库 {path}。请用 --archive 指定档案库文件或 watch 文件夹。")
    from dpsheets.county.archive import Archive

    ctx.obj = Archive(path)
    ctx.call_on_close(ctx.obj.close)


@archive.command("list")
@click.pass_obj
def archive_list(db) -> None:  # noqa: ANN001
    """列出档案中的全部企业。"""
    from rich.table import Table

    table = Table("统一社会信用代码", "企业名称", "县区", "乡镇", "行业", "报送次数", "最近报送")
    for r in db.enterprises():
        table.add_row(r["uscc"], r["name"], r["county"] or "", r["township"] or "", r["industry"] or "",
                      str(r["submissions"]), r["last_seen"])
    _console().print(table)


@archive.command("history")
@click.argument("uscc")
@click.pass_obj
def archive_history(db, uscc: str) -> None:  # noqa: ANN001
    """某企业的全部报送记录。"""
    from rich.table import Table

    rows = db.history(uscc.upper())
    if not rows:
        raise DpsheetsError("archive.unknown", f"档案中没有统一社会信用代码为 {uscc} 的企业。用 `dpsheets archive list` 查看全部企业。")
    table = Table("编号", "报送时间", "文件", "模板版本", "有效", "错误", "提醒", "发现")
    for s in rows:
        table.add_row(str(s.id), s.received_at, s.file_name, s.template_version or "", "是" if s.valid else "否",
                      str(s.errors), str(s.warnings), str(s.findings))
    _console().print(table)


@archive.command("show")
@click.argument("uscc")
@click.option("--as-of", "as_of", callback=_optional_as_of, metavar="DATE", help="显示这一天或之前的最近一次报送。")
@click.option("--register", type=click.Choice(["risk", "hazard", "post", "employee", "training", "drill", "quiz"]),
              default="hazard", show_default=True, help="显示哪张清单的记录。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@click.pass_obj
def archive_show(db, uscc: str, as_of: date | None, register: str, as_json: bool) -> None:  # noqa: ANN001
    """某企业最近一次（或某日之前最近一次）报送的清单记录。"""
    import json

    sub = db.latest(uscc.upper(), as_of)
    if sub is None:
        raise DpsheetsError("archive.unknown", f"档案中没有 {uscc} 在该日期之前的报送。")
    records = db.records(sub.id, register)
    if as_json:
        click.echo(json.dumps({"submission": sub.__dict__, "records": records}, ensure_ascii=False, default=str))
        return
    console = _console()
    console.print(f"[bold]{escape(sub.name)}[/]（{sub.uscc}）第 {sub.id} 号报送，{sub.received_at}，文件 {escape(sub.file_name)}："
                  f"{register} 共 {len(records)} 条")
    for r in records:
        row = r.pop("_row")
        r.pop("_register")
        console.print(f"  第 {row} 行：" + escape("；".join(f"{k}={v}" for k, v in r.items())))


@archive.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="档案导出.xlsx", show_default=True)
@click.pass_obj
def archive_export(db, output: str) -> None:  # noqa: ANN001
    """把企业清单和全部报送记录导出为 Excel。"""
    from dpsheets.county.archive_export import export

    path = export(db, Path(output))
    _console().print(f"已导出 [cyan]{escape(str(path))}[/]")


# --- county, city and province roll-up ---------------------------------------------------------

@cli.command()
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default="企业名单.xlsx", show_default=True)
def roster(output: str) -> None:
    """生成县级“应报企业名单”模板（企业名称、统一社会信用代码、乡镇、行业）。"""
    from dpsheets.county.roster import write_template

    _console().print(f"已生成企业名单模板：[cyan]{escape(str(write_template(Path(output))))}[/]")


@cli.command()
@click.option("--archive", "archives", multiple=True, type=click.Path(),
              help="档案库文件或 watch 文件夹（可重复），默认当前目录的 档案.sqlite。")
@click.option("--from", "summaries", multiple=True, type=click.Path(dir_okay=False),
              help="由下级汇总表合成上级汇总（可重复），如各县的汇总表合成市级。")
@click.option("--roster", "roster_path", type=click.Path(dir_okay=False), default=None, help="应报企业名单（用于统计未报送企业）。")
@as_of_option
@click.option("--level", type=click.Choice(["县", "市", "省"]), default=None, help="汇总级别，默认：有 --from 时为市，否则为县。")
@click.option("--title", default=None, help="报告标题，如“舞阳县小微企业双重预防体系运行情况”。")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default="汇总", show_default=True)
@click.option("--no-report", is_flag=True, help="只生成汇总表，不生成 Word 报告。")
@config_option
def rollup(archives: tuple[str, ...], summaries: tuple[str, ...], roster_path: str | None, as_of: date, level: str | None,
           title: str | None, output_dir: str, no_report: bool, config_path: str | None) -> None:
    """由档案库生成汇总表（总览、企业明细、乡镇/行业汇总、逾期和重大隐患、重点检查企业、未报送企业）和 Word 报告。"""
    from dpsheets.county.rollup import rollup_archives
    from dpsheets.county.summary_book import combine, read_summary, write_summary

    config = _config(config_path)
    console = _console()
    if summaries:
        level = level or "市"
        result = combine([read_summary(Path(p)) for p in summaries], level, config.rules)
    else:
        paths = [Path(a) / "档案.sqlite" if Path(a).is_dir() else Path(a) for a in (archives or ("档案.sqlite",))]
        for p in paths:
            if not p.is_file():
                raise DpsheetsError("archive.missing", f"找不到档案库 {p}。请用 --archive 指定档案库文件或 watch 文件夹。")
        members = None
        if roster_path:
            from dpsheets.county.roster import read_roster

            members, warnings = read_roster(Path(roster_path))
            for w in warnings:
                console.print(f"[yellow]{escape(w)}[/]")
        result = rollup_archives(paths, as_of=as_of, config=config, roster=members, level=level or "县")
    title = title or f"{result.level}级小微企业双重预防体系运行情况汇总"
    out = Path(output_dir)
    book = write_summary(result, out / f"汇总_{result.level}级_{result.as_of.isoformat()}.xlsx", title)
    t = result.totals()
    console.print(f"[bold]{escape(title)}[/]（{result.as_of.isoformat()}）：应报 {t.expected} 家，已报 {t.submitted} 家，"
                  f"逾期隐患 {t.sums['hazards_overdue']} 项，重大隐患未销号 {t.sums['major_open']} 项，"
                  f"未有效运行 {t.not_effective} 家。")
    console.print(f"汇总表：[cyan]{escape(str(book))}[/]")
    if not no_report:
        from dpsheets.county.summary_report import write_report

        report = write_report(result, out / f"汇总报告_{result.level}级_{result.as_of.isoformat()}.docx", title)
        console.print(f"报告：[cyan]{escape(str(report))}[/]")
