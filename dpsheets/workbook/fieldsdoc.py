"""The field reference and the problem catalogue, generated from the declarations.

``python3 -m dpsheets.workbook.fieldsdoc`` rewrites ``docs/字段说明.md``; a test fails when it is stale.
"""

from __future__ import annotations

from pathlib import Path

from dpsheets.rules.problems import CATALOGUE, SEVERITY_LABEL
from dpsheets.workbook.registers import REGISTERS, TEMPLATE_ID, TEMPLATE_VERSION, FieldType
from dpsheets.workbook.template import field_help

DOC_FILE = Path(__file__).resolve().parents[2] / "docs" / "字段说明.md"
TYPE_TEXT = {FieldType.TEXT: "文字", FieldType.DATE: "日期", FieldType.INT: "整数", FieldType.NUMBER: "数字",
             FieldType.CHOICE: "下拉选择", FieldType.MULTI: "可多选（、分隔）", FieldType.PHONE: "电话", FieldType.USCC: "统一社会信用代码"}


def render() -> str:
    lines = [f"# 标准台账字段说明（模板 {TEMPLATE_ID} {TEMPLATE_VERSION}）", "",
             "本文件由 `python3 -m dpsheets.workbook.fieldsdoc` 根据 `dpsheets/workbook/registers.py` 生成，请勿手工修改。", ""]
    for register in REGISTERS:
        lines += [f"## {register.sheet}（`{register.key}`）", "", register.help, "",
                  "| 列名 | 代码 | 类型 | 必填 | 也认作 | 说明 |", "|---|---|---|---|---|---|"]
        for f in register.fields:
            lines.append(f"| {f.header} | `{f.key}` | {TYPE_TEXT[f.type]} | {'是' if f.required else ''} | "
                         f"{'、'.join(f.aliases)} | {field_help(f)} |")
        lines.append("")
    lines += ["## 问题代码", "", "| 代码 | 类别 | 名称 | 说明模板 |", "|---|---|---|---|"]
    for code, kind in CATALOGUE.items():
        lines.append(f"| `{code}` | {SEVERITY_LABEL[kind.severity]} | {kind.title} | {kind.template.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def write(path: Path = DOC_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
