"""Export of the archive (enterprises and every submission) to an Excel workbook."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from dpsheets.county.archive import Archive
from dpsheets.fsutil import atomic_path
from dpsheets.workbook.registers import identity_columns

ENTERPRISE_COLUMNS = [*identity_columns(), ("first_seen", "首次报送"), ("last_seen", "最近报送"), ("submissions", "报送次数")]
SUBMISSION_COLUMNS = [("id", "编号"), *identity_columns(), ("received_at", "报送时间"), ("file_name", "文件"),
                      ("template_version", "模板版本"), ("valid", "有效"), ("errors", "错误"), ("warnings", "提醒"),
                      ("findings", "发现"), ("risks_major", "重大风险"), ("risks_significant", "较大风险"),
                      ("risks_general", "一般风险"), ("risks_low", "低风险"), ("hazards", "隐患"), ("posts", "岗位"),
                      ("employees", "人员"), ("sha256", "内容指纹")]


def export(archive: Archive, path: Path) -> Path:
    with atomic_path(path) as tmp:  # never a half-written or 0-byte file under the real name
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
        bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
        ws = wb.add_worksheet("企业")
        ws.write_row(0, 0, [label for _, label in ENTERPRISE_COLUMNS], bold)
        for r, e in enumerate(archive.enterprises(), start=1):
            ws.write_row(r, 0, [e[key] for key, _ in ENTERPRISE_COLUMNS])
        ws.freeze_panes(1, 0)
        ws = wb.add_worksheet("报送记录")
        ws.write_row(0, 0, [label for _, label in SUBMISSION_COLUMNS], bold)
        rows = archive.db.execute(f"SELECT {', '.join(c for c, _ in SUBMISSION_COLUMNS)} FROM submissions ORDER BY id")
        for r, row in enumerate(rows, start=1):
            ws.write_row(r, 0, list(row))
        ws.freeze_panes(1, 0)
        wb.close()
    return path
