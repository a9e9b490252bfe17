"""The readable report of one checked file, grouped by sheet, and its JSON form."""

from __future__ import annotations

from io import StringIO
from itertools import groupby
from pathlib import Path

from dpsheets.feedback.terminal import Out, Part
from dpsheets.fsutil import write_text_atomic
from dpsheets.pipeline import FileResult
from dpsheets.rules.problems import SEVERITY_LABEL, Problem
from dpsheets.workbook.model import WorkbookData

STYLE = {"error": "bold red", "warning": "yellow", "finding": "magenta"}


def print_result(result: FileResult, out: Out, *, limit: int = 200, brief: bool = False) -> None:
    """The report of one file; *brief*: only its headline (for county staff checking hundreds)."""
    if result.error is not None:
        out.print(("bold red", f"✗ {result.name}"), f"：无法读取。{result.error.message}")
        return
    assert result.report is not None
    counts = result.report.counts()
    ent = result.data.enterprise if result.data else None
    name = f"（{ent['name']}）" if ent and ent["name"] else ""
    mark = ("bold green", "✓") if result.valid else ("bold red", "✗")
    out.print(mark, " ", ("bold", result.name), f"{name}：错误 ", ("red", str(counts["error"])), " 处，提醒 ",
              ("yellow", str(counts["warning"])), " 处，发现 ", ("magenta", str(counts["finding"])), " 处")
    if result.data is not None:
        read = records_line(result.data)
        if read and not brief:
            out.print(f"  {read}")
    if brief:
        return
    problems = result.report.sorted()
    shown = 0
    for sheet, group in groupby(problems, key=lambda p: p.sheet or "工作簿"):
        items = list(group)
        out.print("  ", ("bold underline", sheet), f"（{len(items)}）")
        for p in items:
            if shown >= limit:
                break
            out.print("    ", *problem_parts(p))
            shown += 1
    if shown < len(problems):
        out.print(f"  …… 另有 {len(problems) - shown} 条，完整列表见标注副本的“检查结果”表或 --json 输出。")
    if result.highlighted:
        out.print("  标注副本：", ("cyan", str(result.highlighted)))
    for path in result.documents:
        out.print("  文书：", ("cyan", str(path)))
    for line in result.info:
        out.print("  ", ("dim", line))
    for note in result.notes:
        out.print("  ", ("yellow", f"注意：{note}"))


def print_notices(results: list[FileResult], out: Out) -> None:
    """Each notice of the machine (no Chinese font …) once, however many files gave it."""
    from dpsheets.errors import NOTICES

    for code in dict.fromkeys(code for r in results for code in r.notices):
        out.print(("yellow", f"提示：{NOTICES[code].message}"), " ", ("dim", f"({code})"))


def records_line(data: WorkbookData) -> str:
    """读取风险 15 条、隐患 20 条 — what was read, register by register."""
    parts = [f"{d.register.label or d.register.sheet} {len(d.records)} 条" for d in data.sheets.values()
             if d.present and not d.register.key_value]
    return "读取" + "、".join(parts) if parts else ""


def problem_parts(p: Problem) -> list[Part]:
    """One problem as a line: 错误 隐患排查治理清单!M7 治理期限：…… (hazard.overdue)."""
    where = p.cell or (f"第{p.row}行" if p.row else "")
    column = f" {p.column}" if p.column else ""
    return [(STYLE[p.severity], SEVERITY_LABEL[p.severity]), " ", ("cyan", where), f"{column}：{p.message} ",
            ("dim", f"({p.code})")]


def to_json(result: FileResult) -> str:
    import json

    return json.dumps(result.to_dict(), ensure_ascii=False, default=str)


def write_text_report(result: FileResult, target: Path) -> Path:
    """The full report of *result* as plain text (the watcher's 检查报告.txt)."""
    buffer = StringIO()
    out = Out(buffer, colour=False)
    print_result(result, out, limit=10_000)
    print_notices([result], out)
    write_text_atomic(target, buffer.getvalue())
    return target
