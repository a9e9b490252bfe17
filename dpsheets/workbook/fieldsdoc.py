"""The field reference, the problem catalogue, the fatal error codes, the roll-up rules and the exit
codes, generated from their declarations.

``python3 -m dpsheets.workbook.fieldsdoc`` rewrites ``docs/字段说明.md``; a test fails when it is stale.
"""

from __future__ import annotations

from pathlib import Path

from dpsheets.errors import EXIT_CODES, FATAL, NOTICES
from dpsheets.rules import hazard_state
from dpsheets.rules.breaches import BREACHES
from dpsheets.rules.problems import CATALOGUE, SEVERITY_LABEL
from dpsheets.workbook.registers import FIELD_TYPE_LABELS, HAZARD, REGISTERS, TEMPLATE_ID, TEMPLATE_VERSION
from dpsheets.workbook.template import field_help

DOC_FILE = Path(__file__).resolve().parents[2] / "docs" / "字段说明.md"


def render() -> str:
    lines = [f"# 标准台账字段说明（模板 {TEMPLATE_ID} {TEMPLATE_VERSION}）", "",
             "本文件由 `python3 -m dpsheets.workbook.fieldsdoc` 根据 `dpsheets/workbook/registers.py` 生成，请勿手工修改。", ""]
    for register in REGISTERS:
        lines += [f"## {register.sheet}（`{register.key}`）", "", register.help, "",
                  "| 列名 | 代码 | 类型 | 必填 | 也认作 | 说明 |", "|---|---|---|---|---|---|"]
        for f in register.fields:
            lines.append(f"| {f.header} | `{f.key}` | {FIELD_TYPE_LABELS[f.type]} | {'是' if f.required else ''} | "
                         f"{'、'.join(f.aliases)} | {field_help(f)} |")
        lines.append("")
    lines += ["## 问题代码", "", "| 代码 | 类别 | 名称 | 说明模板 |", "|---|---|---|---|"]
    for code, kind in CATALOGUE.items():
        lines.append(f"| `{code}` | {SEVERITY_LABEL[kind.severity]} | {kind.title} | {kind.template.replace('|', '/')} |")
    lines += ["", "## 无法处理的文件和命令错误", "",
              "这些情况使一个文件无法检查（监控文件夹中该文件进入“退回”），或使命令无法完成；提示写明文件和改正方法。", "",
              "| 代码 | 名称 | 退出码 |", "|---|---|---|"]
    lines += [f"| `{code}` | {kind.title} | {kind.exit_code} |" for code, kind in FATAL.items()]
    lines += ["", "## 运行环境提示", "",
              "不影响检查和文书生成、但需要告诉使用者的本机情况；`dpsheets docs` 和 `demo` 每次运行只提示一次（`--json` 中为 notices）。", "",
              "| 代码 | 名称 | 提示 |", "|---|---|---|"]
    lines += [f"| `{code}` | {kind.title} | {kind.message} |" for code, kind in NOTICES.items()]
    lines += ["", "## 未有效运行的判定规则（汇总）", "",
              "花括号中的参数来自 `dpsheets.toml` 的 `[rules]`（规则）或该企业的情况（说明）。", "",
              "每条规则按“计分”给企业加分（权重也在 `[rules]` 中），“重点检查企业”按总分值从高到低排列。", "",
              "| 代码 | 规则 | 规则说明 | 企业问题说明 | 计分 | 开关 |", "|---|---|---|---|---|---|"]
    lines += [f"| `{code}` | {kind.title} | {kind.rule} | {kind.message} | {kind.score} | "
              f"{f'`{kind.switch}`' if kind.switch else ''} |" for code, kind in BREACHES.items()]
    lines += ["", "## 隐患状态", "",
              "逾期、临期、按期 / 逾期销号只在 `dpsheets/rules/hazard_state.py` 定义一次；检查、季度统计、汇总的 SQL "
              "和台账模板的 Excel 条件格式都由它生成。日期缺失时比较不成立（没有治理期限的隐患不会逾期）。", "",
              "| 状态 | 代码 | 定义 |", "|---|---|---|"]
    headers = {key: HAZARD[key].header for key in hazard_state.FIELDS}
    lines += [f"| {hazard_state.LABELS[name]} | `{name}` | {hazard_state.describe(name, headers)} |"
              for name in hazard_state.PREDICATES]
    lines += ["", "## 退出码", "", "| 退出码 | 含义 |", "|---|---|"]
    lines += [f"| {code} | {text} |" for code, text in EXIT_CODES.items()]
    return "\n".join(lines) + "\n"


def write(path: Path = DOC_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
