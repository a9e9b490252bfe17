"""Records read from a workbook, each remembering where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dpsheets.rules.problems import Problem
from dpsheets.workbook.layout import Layout
from dpsheets.workbook.registers import Register


class Record:
    """One row of a register (or the enterprise sheet), typed, with cell positions.

    ``values`` holds the typed value of every declared field (``None`` when blank or
    unreadable); ``invalid`` the original value of each cell that could not be read as its
    type (a date that is not a date), so that such a cell counts as filled in, not as blank.
    """

    __slots__ = ("sheet", "row", "values", "invalid", "columns", "rows")

    def __init__(self, sheet: str, row: int, values: dict[str, Any], invalid: dict[str, Any],
                 columns: dict[str, str], rows: dict[str, int] | None = None) -> None:
        self.sheet = sheet
        self.row = row
        self.values = values
        self.invalid = invalid
        self.columns = columns  # field key → column letter
        self.rows = rows  # key-value sheets: field key → row; tables: None (all on self.row)

    def __getitem__(self, key: str) -> Any:
        return self.values.get(key)

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key)
        return default if value is None else value

    def filled(self, key: str) -> bool:
        """Whether the cell of *key* holds anything (readable or not)."""
        return self.values.get(key) is not None or key in self.invalid

    def is_blank(self) -> bool:
        return not self.invalid and all(v is None for v in self.values.values())

    def cell(self, key: str) -> str | None:
        letter = self.columns.get(key)
        if letter is None:
            return None
        row = self.rows.get(key) if self.rows is not None else self.row
        return f"{letter}{row}" if row else None

    def row_of(self, key: str) -> int:
        return (self.rows or {}).get(key, self.row)

    def __repr__(self) -> str:
        return f"Record({self.sheet}!{self.row}, {self.values!r})"


@dataclass(frozen=True)
class Rewrite:
    """A value read differently from how it was written (橙色 → 较大风险, 3日内 → a date)."""

    sheet: str
    row: int
    cell: str | None
    key: str  # the field
    column: str  # the standard header of the field
    original: str
    new: str
    kind: str  # "value" | "relative" | "relative-unknown" | "inferred" | "preamble" | "parts"
    note: str = ""


@dataclass
class SheetData:
    """The records read from one register, with the sheet and columns they came from."""

    register: Register
    sheet: str  # the sheet's name in the workbook (the first, when several sheets make one register)
    header_row: int  # 1-based; 0 when the sheet is missing
    columns: dict[str, str] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    present: bool = True
    sources: list[Any] = field(default_factory=list)  # headers.Layout of each sheet read, with its sheet name
    rewrites: list[Rewrite] = field(default_factory=list)


@dataclass
class WorkbookData:
    """Everything read from one workbook: each register's records, the structure problems, the plant sketch."""

    path: Path
    template_version: str | None
    sheets: dict[str, SheetData]  # register key → data
    problems: list[Problem] = field(default_factory=list)  # structure and cell-type problems
    layout: Layout | None = None  # the plant sketch of the 风险分布图 sheet, when the workbook has one
    recognised: dict[str, str] = field(default_factory=dict)  # sheet → register sheet, recognised by its headers

    def counts(self) -> dict[str, int]:
        """Records read per register present: {"风险管控清单": 15, …}."""
        return {d.register.sheet: len(d.records) for d in self.sheets.values() if d.present and not d.register.key_value}

    def records(self, register_key: str) -> list[Record]:
        data = self.sheets.get(register_key)
        return data.records if data else []

    @property
    def enterprise(self) -> Record | None:
        records = self.records("enterprise")
        return records[0] if records else None

    def enterprise_value(self, key: str) -> Any:
        ent = self.enterprise
        return ent[key] if ent else None
