"""The readable report of one checked file, grouped by sheet, and its JSON form."""

from __future__ import annotations

import json
from io import StringIO
from itertools import groupby
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from dpsheets.fsutil import write_text_atomic
from dpsheets.pipeline import FileResult
from dpsheets.rules.problems import SEVERITY_LABEL, Problem
from dpsheets.workbook.model import WorkbookData

STYLE = {"error": "bold red", "warning": "yellow", "finding": "magenta"}


def print_result(result: FileResult, console: Console, *, limit: int = 200, brief: bool = False) -> None:
    """The report of one file; *brief*: only its headline (for county staff checking hundreds)."""
    if result.error is not None:
        console.print(f"[bold red]✗ {escape(result.name)}[/]：无法读取。{escape(result.error.message)}")
        return
    assert result.report is not None
    counts = result.report.counts()
    ent = result.data.enterprise if result.data else None
    name = f"（{escape(str(ent['name']))}）" if ent and ent["name"] else ""
    mark = "[bold green]✓[/]" if result.valid else "[bold red]✗[/]"
    console.print(f"{mark} [bold]{escape(result.name)}[/]{name}："
                  f"错误 [red]{counts['error']}[/] 处，提醒 [yellow]{counts['warning']}[/] 处，发现 [magenta]{counts['finding']}[/] 处")
    if result.data is not None:
        read = records_line(result.data)
        if read and not brief:
            console.print(f"  {escape(read)}")
    if brief:
        return
    problems = result.report.sorted()
    shown = 0
    for sheet, group in groupby(problems, key=lambda p: p.sheet or "工作簿"):
        items = list(group)
        console.print(f"  [bold underline]{escape(sheet)}[/]（{len(items)}）")
        for p in items:
            if shown >= limit:
                break
            console.print("    " + format_problem(p))
            shown += 1
    if shown < len(problems):
        console.print(f"  …… 另有 {len(problems) - shown} 条，完整列表见标注副本的“检查结果”表或 --json 输出。")
    if result.highlighted:
        console.print(f"  标注副本：[cyan]{escape(str(result.highlighted))}[/]")
    for path in result.documents:
        console.print(f"  文书：[cyan]{escape(str(path))}[/]")
    for line in result.info:
        console.print(f"  [dim]{escape(line)}[/]")
    for note in result.notes:
        console.print(f"  [yellow]注意：{escape(note)}[/]")


def print_notices(results: list[FileResult], console: Console) -> None:
    """Each notice of the machine (no Chinese font …) once, however many files gave it."""
    from dpsheets.errors import NOTICES

    for code in dict.fromkeys(code for r in results for code in r.notices):
        console.print(f"[yellow]提示：{escape(NOTICES[code].message)}[/] [dim]({code})[/]")


def records_line(data: WorkbookData) -> str:
    """读取风险 15 条、隐患 20 条 — what was read, register by register."""
    parts = [f"{d.register.label or d.register.sheet} {len(d.records)} 条" for d in data.sheets.values()
             if d.present and not d.register.key_value]
    return "读取" + "、".join(parts) if parts else ""


def format_problem(p: Problem) -> str:
    where = p.cell or (f"第{p.row}行" if p.row else "")
    column = f" {escape(p.column)}" if p.column else ""
    label = SEVERITY_LABEL[p.severity]
    return f"[{STYLE[p.severity]}]{label}[/] [cyan]{escape(where)}[/]{column}：{escape(p.message)} [dim]({p.code})[/]"


def to_json(result: FileResult) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, default=str)


def write_text_report(result: FileResult, target: Path) -> Path:
    """The full report of *result* as plain text (the watcher's 检查报告.txt)."""
    buffer = StringIO()
    console = Console(file=buffer, width=120, no_color=True, highlight=False, soft_wrap=True)
    print_result(result, console, limit=10_000)
    print_notices([result], console)
    write_text_atomic(target, buffer.getvalue())
    return target
