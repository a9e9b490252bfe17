"""Archives built straight from sample rows, without writing and reading .xlsx files.

Where the roll-up is what a test is about, the workbook round trip adds seconds and nothing else:
the records go into the archive exactly as the reader would hand them over (typed values).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dpsheets.county.archive import Archive
from dpsheets.rules.checks import check_workbook
from dpsheets.rules.findings import find
from dpsheets.rules.problems import Report
from dpsheets.workbook.model import Record, SheetData, WorkbookData
from dpsheets.workbook.registers import BY_KEY, TEMPLATE_VERSION
from dpsheets.workbook.samples import plant, valid_uscc


def uscc(i: int) -> str:
    return valid_uscc(f"9141112100{i:07d}")


def workbook_data(enterprise: dict[str, Any], rows: dict[str, list[dict[str, Any]]]) -> WorkbookData:
    """The :class:`WorkbookData` the reader would return for a workbook holding *enterprise* and *rows*."""
    sheets = {"enterprise": SheetData(BY_KEY["enterprise"], BY_KEY["enterprise"].sheet, 1,
                                      records=[Record(BY_KEY["enterprise"].sheet, 1, _typed("enterprise", enterprise), {}, {}, {})])}
    for key, items in rows.items():
        register = BY_KEY[key]
        sheets[key] = SheetData(register, register.sheet, 1,
                                records=[Record(register.sheet, r, _typed(key, values), {}, {}) for r, values in
                                         enumerate(items, start=2)])
    return WorkbookData(Path("built.xlsx"), TEMPLATE_VERSION, sheets)


def _typed(key: str, values: dict[str, Any]) -> dict[str, Any]:
    """Every declared field present (None when blank), as the reader gives them."""
    return {f.key: (values.get(f.key) if values.get(f.key) != "" else None) for f in BY_KEY[key].fields}


def submit(archive: Archive, i: int, received: datetime, *, seed: int, filled: date | None = None,
           **kwargs: Any) -> int:
    """Archive one sample submission of enterprise *i* received at *received* (content dated *filled*)."""
    p = plant(filled or received.date(), seed=seed, uscc=uscc(i), name=kwargs.pop("name", f"企业{i:03d}"), **kwargs)
    data = workbook_data(p.enterprise, p.rows)
    day = received.date()
    report = Report(check_workbook(data, day, _config()) + find(data, day, _config()))
    return archive.add_submission(data, report, file_name=f"{i}-{seed}.xlsx", sha256=f"{i}-{seed}-{received.isoformat()}",
                                  received_at=received)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)


def _config():  # noqa: ANN202
    from dpsheets.config import Config

    return Config()
