"""Problems are data: a stable code, a severity, a Chinese message and a position.

Every kind of problem dpsheets can report is declared once in ``CATALOGUE`` with its
message template. *Errors* mean an entry is wrong, *warnings* that it is doubtful,
*findings* that the entry is right and shows a situation needing action (an overdue
hazard, no drill for a year). Only conditions that stop a file from being read at all
raise :class:`dpsheets.errors.DpsheetsError`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "finding"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "finding": 2}
SEVERITY_LABEL = {"error": "错误", "warning": "提醒", "finding": "发现"}


@dataclass(frozen=True)
class ProblemType:
    """A problem code of the catalogue: its severity, title and message template."""

    code: str
    severity: Severity
    title: str
    template: str


def _types(*rows: tuple[str, Severity, str, str]) -> dict[str, ProblemType]:
    return {code: ProblemType(code, sev, title, tpl) for code, sev, title, tpl in rows}


CATALOGUE: dict[str, ProblemType] = _types(
    # structure of the workbook
    ("workbook.no-template-id", "warning", "非标准模板",
     "工作簿缺少标准台账的模板标识，已按表头识别各表{recognised}。可用 `dpsheets convert` 转换成标准台账，"
     "或用 `dpsheets template` 下载标准台账重新填写。"),
    ("workbook.xls", "warning", "旧版 .xls 文件",
     "这是旧版 Excel 97-2003（.xls）文件，已读取；标注副本保存为 .xlsx。建议在 Excel/WPS 中“另存为”Excel 工作簿（*.xlsx）后再填写。"),
    ("workbook.old-template", "warning", "模板版本较旧",
     "台账模板版本为 {found}，当前为 {expected}。请下载新版模板，把数据复制过去。"),
    ("sheet.missing", "error", "缺少工作表",
     "缺少“{sheet}”工作表。请从标准模板复制该表，或把现有表改名为“{sheet}”。"),
    ("sheet.missing-ledger", "warning", "缺少台账表",
     "缺少“{sheet}”工作表，无法核对相关记录。请从标准模板复制该表。"),
    ("header.missing", "error", "缺少必填列",
     "“{sheet}”缺少必填列“{column}”。请在表头行（第 {row} 行）补上这一列。"),
    ("header.unknown", "warning", "多余的列",
     "列“{column}”不是标准台账的列，内容不会被读取。{hint}"),
    ("header.duplicate", "warning", "重复的列",
     "列“{column}”出现了两次，只读取第一次出现的列。请删除或改名重复的列。"),
    # values written the way real registers write them, read as the standard means them
    ("value.normalized", "warning", "按标准取值读取", "“{column}”中的“{value}”按“{read}”读取{note}（共 {count} 处{more}）。"),
    ("deadline.relative", "warning", "期限按发现日期换算",
     "“{column}”写的是“{value}”，按发现日期起算读作 {read}（共 {count} 处{more}）。请填写具体日期。"),
    ("deadline.relative-unknown", "warning", "期限无法换算",
     "“{column}”写的是“{value}”，但没有发现日期，无法换算成日期，未判断是否逾期（共 {count} 处{more}）。请填写具体日期。"),
    ("hazard.status-inferred", "warning", "治理状态按记录推定",
     "治理状态未填写，但{evidence}：按“已销号”读取，不计逾期（共 {count} 处{more}）。请填写治理状态。"),
    # single cells
    ("field.required", "error", "必填项为空", "“{column}”是必填项，请填写。"),
    ("field.control-char", "warning", "含不可见的控制字符",
     "“{column}”中有 Excel 不能保存的不可见控制字符（标注副本中显示为 {value}），可能是从其他系统复制来的。请删除这些字符后重新填写。"),
    ("field.choice", "error", "不在可选范围内", "“{value}”不是“{column}”的可选值。请从下拉列表中选择：{choices}。"),
    ("field.date", "error", "日期无法识别", "“{value}”不是有效日期。请填写如 2020-09-23 的日期。"),
    ("field.number", "error", "不是数字", "“{value}”不是数字。请只填写数字，不带单位。"),
    ("field.integer", "error", "不是整数", "“{value}”不是整数。请填写整数，如 12。"),
    ("field.phone", "error", "电话号码有误", "“{value}”不是有效电话号码。请填写 11 位手机号或带区号的座机号，如 0371-67888837。"),
    ("field.uscc", "error", "统一社会信用代码有误", "统一社会信用代码“{value}”{reason}。请对照营业执照填写 18 位代码。"),
    ("field.uscc-province", "warning", "非河南代码", "统一社会信用代码“{value}”的登记机关代码不是河南（41 开头），请核对。"),
    ("date.future", "error", "日期晚于今天", "“{column}”{value} 晚于检查日 {as_of}。请核对年份或月份。"),
    ("date.order", "error", "日期先后矛盾", "“{column}”{value} 早于“{other}”{other_value}。请核对两个日期。"),
    # risks
    ("risk.factor", "error", "评价因子取值有误", "{method} 法的 {column} 值 {value} 不在允许范围（{allowed}）内。"),
    ("risk.factors-missing", "error", "评价因子不全", "评价方法为 {method}，但“{column}”未填写。请补全 {factors} 各因子。"),
    ("risk.level-mismatch", "error", "风险等级与计算不符",
     "按 {method} 法计算风险值为 {score}，应为“{computed}”，但填写的是“{value}”。请核对因子或等级。"),
    ("risk.score-mismatch", "warning", "风险值与计算不符", "填写的风险值 {value} 与按因子计算的 {score} 不一致，系统以计算值为准。"),
    ("risk.tier", "warning", "管控层级偏低", "“{level}”通常由{expected}管控，这里填的是“{value}”。"),
    ("risk.uncontrolled-no-hazard", "error", "失控风险未登记隐患",
     "风险点“{name}”状态为“失控”，但隐患排查治理清单中没有关联它的隐患。请登记隐患并在“关联风险点”中填写该风险点名称。"),
    # hazards
    ("hazard.duplicate-number", "error", "隐患编号重复", "隐患编号“{value}”与第 {other_row} 行重复。每条隐患的编号应唯一。"),
    ("hazard.unknown-risk", "error", "关联风险点不存在", "风险管控清单中没有名为“{value}”的风险点。请填写清单中已有的风险点名称。"),
    ("hazard.closed-incomplete", "error", "销号信息不全", "隐患已销号，但“{column}”未填写。销号须有完成日期、验收人、验收日期和“通过”的验收结论。"),
    ("hazard.closed-not-passed", "error", "验收未通过却已销号", "验收结论为“不通过”的隐患不能销号，治理状态应改回“整改中”。"),
    ("hazard.major-incomplete", "error", "重大隐患信息不全", "重大隐患须填写“{column}”（治理方案和报告内容）。"),
    ("hazard.completion-missing", "warning", "缺少完成日期", "治理状态为“{status}”，但“完成日期”未填写。"),
    # cross references
    ("employee.unknown-post", "error", "岗位不存在", "岗位安全责任清单中没有“{value}”岗位。请填写清单中已有的岗位，或先在清单中增加该岗位。"),
    ("map.unknown-location", "error", "位置不在风险分布图上",
     "所在位置“{value}”不是“风险分布图”上画出的区域。请在分布图上画出这个区域，或改为图上已有的区域：{areas}。"),
    ("map.area-without-risk", "warning", "区域没有风险点",
     "“风险分布图”上的区域“{value}”在风险管控清单中没有风险点。请核对区域名称与“所在位置”是否一致。"),
    ("quiz.unknown-employee", "warning", "人员不在名单中", "“{value}”不在岗位人员名单中，请核对姓名。"),
    # findings: the entry is right, the situation needs action
    ("hazard.overdue", "finding", "隐患逾期", "隐患“{name}”治理期限为 {deadline}，截至 {as_of} 已逾期 {days} 天未销号。"),
    ("hazard.due-soon", "finding", "隐患临期", "隐患“{name}”治理期限为 {deadline}，还剩 {days} 天。"),
    ("hazard.major-open", "finding", "重大隐患未销号", "重大隐患“{name}”尚未销号，须立即报告并按治理方案整改。"),
    ("hazard.closed-late", "finding", "逾期整改", "隐患“{name}”于 {completed} 完成，晚于治理期限 {deadline}，统计为逾期整改。"),
    ("training.none-12m", "finding", "一年内无培训", "截至 {as_of}，近 12 个月没有教育培训记录。"),
    ("drill.none-12m", "finding", "一年内无演练", "截至 {as_of}，近 12 个月没有应急演练记录。"),
    ("register.empty", "finding", "清单为空", "“{sheet}”没有任何记录，双重预防体系未建立或未填写。"),
    # 一题 and 三有五化 (guidance 二(三), 二(五))
    ("quiz.unconfirmed-12m", "finding", "员工未答题确认",
     "员工“{name}”（岗位“{post}”）截至 {as_of} 近 12 个月没有本岗位应知应会答题确认记录（一题）。请安排岗前答题并在“答题确认记录”中登记。"),
    ("plan.no-inspection", "finding", "未按计划频次排查",
     "排查计划“{content}”（{location}，{frequency}）最近一次排查：{last}；截至 {as_of} 已超过计划频次。"
     "请按计划排查，并在“最近排查日期”或隐患排查治理清单中登记。"),
    ("reward.none-12m", "finding", "一年内无奖惩考核", "截至 {as_of}，近 12 个月没有奖惩考核记录，厂区公告无奖惩考核内容。"),
    ("procedure.unknown-post", "error", "岗位不存在",
     "岗位安全责任清单中没有“{value}”岗位。请填写清单中已有的岗位，或先在清单中增加该岗位。"),
    ("procedure.missing", "finding", "岗位无操作规程",
     "岗位“{post}”在“岗位操作规程”中没有操作规程内容，告知卡上无法印出操作规程。"),
    ("unit-duty.missing", "finding", "缺少车间班组责任清单",
     "{tier}“{unit}”在岗位安全责任清单中有岗位，但“车间班组责任清单”中没有它的负责人和安全职责。"),
    ("sign.missing-area", "finding", "区域无警示标志",
     "“{location}”有{level}，但“警示标志清单”中没有该区域的警示标志。"),
    ("sign.damaged", "finding", "警示标志损坏或缺失", "“{location}”的警示标志“{name}”状态为“{state}”，请及时修复或补设。"),
    ("registers.missing", "finding", "台账不全",
     "本工作簿只有{found}，缺少{missing}，这些清单未检查。可用 `dpsheets convert` 转换成标准台账后补齐。"),
)


@dataclass(frozen=True)
class Problem:
    """One problem found in a workbook, with its place (sheet, row, column, cell) and Chinese message."""

    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    row: int | None = None  # 1-based Excel row
    column: str | None = None  # the column header as the standard names it
    cell: str | None = None  # e.g. "M7"
    # What the message was filled with (besides the position): the facts, comparable without the wording.
    params: tuple[tuple[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def title(self) -> str:
        return CATALOGUE[self.code].title

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        if self.sheet and self.row:
            return f"{self.sheet} 第 {self.row} 行"
        return self.sheet or ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["params"]
        return out


def make(code: str, *, sheet: str | None = None, row: int | None = None, column: str | None = None,
         cell: str | None = None, **params: Any) -> Problem:
    """Build a problem of a catalogued type, filling its Chinese message template."""
    kind = CATALOGUE[code]
    message = kind.template.format(column=column, sheet=sheet, row=row, **params)
    return Problem(code, kind.severity, message, sheet, row, column, cell, tuple(params.items()))


@dataclass
class Report:
    """All problems of one workbook."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    def of(self, severity: Severity) -> list[Problem]:
        return [p for p in self.problems if p.severity == severity]

    @property
    def errors(self) -> list[Problem]:
        return self.of("error")

    @property
    def valid(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        c: Counter[str] = Counter(p.severity for p in self.problems)
        return {s: c.get(s, 0) for s in SEVERITY_ORDER}

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=_sort_key)


def _sort_key(p: Problem) -> tuple[int, str, int, int, str]:
    """Workbook-level problems first, then sheets in the standard order, rows top to bottom."""
    from dpsheets.workbook.registers import BY_SHEET, REGISTERS

    order = REGISTERS.index(BY_SHEET[p.sheet]) if p.sheet in BY_SHEET else (-1 if p.sheet is None else len(REGISTERS))
    return (order, p.sheet or "", p.row or 0, SEVERITY_ORDER[p.severity], p.cell or "")
