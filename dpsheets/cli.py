"""The ``dpsheets`` command: a thin layer over the library."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from . import __version__
from .config import Config, load_config
from .errors import DpsheetsError
from .normalize import parse_date
from .pipeline import EXIT_UNREADABLE, DocOptions, FileResult, pipeline
from .report import print_result, to_json
from .sniff import is_temp_or_lock

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
        _console(stderr=True).print(f"[bold red]错误：[/]{exc}")
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="双重预防体系台账.xlsx", show_default=True,
              help="模板保存位置。")
@click.option("--name", help="预先填好的企业名称。")
@click.option("--uscc", help="预先填好的统一社会信用代码。")
@click.option("--county", help="预先填好的所属县（市、区）。")
def template(output: str, name: str | None, uscc: str | None, county: str | None) -> None:
    """生成空白的标准台账（带下拉选项、填表说明和打印设置）。"""
    from .template import write_workbook

    enterprise = {k: v for k, v in (("name", name), ("uscc", uscc), ("county", county)) if v}
    path = write_workbook(output, enterprise)
    _console().print(f"已生成标准台账：[cyan]{path}[/]")


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
@config_option
def check(files: tuple[str, ...], as_of: date, as_json: bool, output_dir: str | None, no_highlight: bool,
          config_path: str | None) -> None:
    """检查台账 FILES（可以是文件或文件夹），列出每一处问题并生成标注副本。

    退出码：0 没有错误；1 有数据错误；2 有文件无法读取。
    """
    config = _config(config_path)
    paths = expand_inputs(files)
    out_dir = Path(output_dir) if output_dir else None
    console = _console()
    results = run_many(paths, lambda p: pipeline(p, as_of=as_of, config=config, out_dir=out_dir,
                                                    highlight=not no_highlight),
                       show_progress=len(paths) > 1)
    for result in results:
        if as_json:
            click.echo(to_json(result))
        else:
            print_result(result, console)
    if not as_json and len(results) > 1:
        _print_totals(results, console)
    sys.exit(max((r.exit_code for r in results), default=EXIT_UNREADABLE))


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
    paths = expand_inputs(files)
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
    from .samples import plant
    from .template import write_workbook

    out = Path(output_dir)
    sample = plant(as_of, mistakes=True)
    workbook = write_workbook(out / "示例台账_宏达机械.xlsx", sample.enterprise, sample.rows)
    write_workbook(out / "空白台账模板.xlsx")
    console = _console()
    console.print(f"已生成示例台账 [cyan]{workbook}[/]（检查日 {as_of.isoformat()}）\n")
    result = pipeline(workbook, as_of=as_of, config=Config(), out_dir=out, documents_dir=out / "打印")
    print_result(result, console)
    console.print("\n用 Excel 或 WPS 打开标注副本：出错的格标成红色并附批注，逾期隐患整行标红，临期标橙，"
                  "“检查结果”表列出全部问题并可点击跳转。“打印”文件夹里是带二维码的告知卡、整改通知书等 Word 文书。")
