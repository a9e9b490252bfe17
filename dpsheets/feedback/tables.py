"""Rows for people and for scripts: a table on a terminal, plain tab-separated lines through a pipe,
or ``--json`` / ``--csv``. Cell text is always literal (``宏达[/b]机械`` prints as written, never as
rich markup) and never cut: a credit code piped into another program arrives whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

Format = Literal["table", "json", "csv"]
Columns = Sequence[tuple[str, str]]  # (key, header)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def csv_safe(value: Any) -> Any:
    """A spreadsheet opening a CSV evaluates text starting with = + - @ as a formula: such text gets a
    leading apostrophe (the OWASP advice). Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def render(rows: Iterable[dict[str, Any]], columns: Columns, fmt: Format, console: Console,
           *, title: str | None = None) -> str | None:
    """Show *rows*: returns the text for ``json``/``csv`` (to be echoed as is), prints the table itself."""
    rows = list(rows)
    if fmt == "json":
        return json.dumps([{k: r.get(k) for k, _ in columns} for r in rows], ensure_ascii=False, default=str)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([h for _, h in columns])
        writer.writerows([csv_safe(_cell(r.get(k))) for k, _ in columns] for r in rows)
        return buffer.getvalue().rstrip("\n")
    if not console.is_terminal:  # a pipe: whole values, one line per row, tab-separated
        lines = ["\t".join(h for _, h in columns)]
        lines += ["\t".join(_cell(r.get(k)).replace("\t", " ").replace("\n", " ") for k, _ in columns) for r in rows]
        console.out("\n".join(lines), highlight=False)
        return None
    table = Table(*(h for _, h in columns), title=Text(title) if title else None)
    for column in table.columns:
        column.overflow = "fold"  # wrap, never "…"
    for r in rows:
        table.add_row(*(Text(_cell(r.get(k))) for k, _ in columns))
    console.print(table)
    return None


def format_option_values(as_json: bool, as_csv: bool) -> Format:
    return "json" if as_json else "csv" if as_csv else "table"
