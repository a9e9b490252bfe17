"""The registers of the standard enterprise workbook, declared once.

Everything else — the blank template, the reader's header map, the dropdowns, the
填表说明 sheet and the field reference in the docs — is generated from these
declarations. Sheet names and headers follow DOMAIN.md §3 exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

TEMPLATE_ID = "dpsheets-henan-smb"
TEMPLATE_VERSION = "1.2"
META_SHEET = "_dpsheets"


class FieldType(str, Enum):
    TEXT = "text"
    DATE = "date"
    INT = "int"
    NUMBER = "number"
    CHOICE = "choice"
    MULTI = "multi"  # several choices separated by 、
    PHONE = "phone"
    USCC = "uscc"


# How each field type is named to a person (the template's 填表说明, docs/字段说明.md).
FIELD_TYPE_LABELS: dict[FieldType, str] = {
    FieldType.TEXT: "文字", FieldType.DATE: "日期", FieldType.INT: "整数", FieldType.NUMBER: "数字",
    FieldType.CHOICE: "下拉选择", FieldType.MULTI: "可多选（、分隔）", FieldType.PHONE: "电话号码",
    FieldType.USCC: "统一社会信用代码（18 位）",
}


@dataclass(frozen=True)
class Field:
    key: str
    header: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    help: str = ""
    width: int = 14


@dataclass(frozen=True)
class Register:
    key: str
    sheet: str
    fields: tuple[Field, ...]
    help: str
    key_value: bool = False  # 企业信息 is label/value pairs, not a table
    core: bool = True  # the three registers and the enterprise sheet must exist
    sheet_aliases: tuple[str, ...] = ()
    by_key: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {f.key: f for f in self.fields})

    def __getitem__(self, key: str) -> Field:
        return self.by_key[key]


D, INT, N, C, M, P = (FieldType.DATE, FieldType.INT, FieldType.NUMBER, FieldType.CHOICE, FieldType.MULTI,
                      FieldType.PHONE)

INDUSTRIES = ("煤矿", "非煤矿山", "危险化学品", "冶金", "有色", "建材", "纺织", "机械", "轻工", "商贸",
              "教育", "卫生", "文化", "民政", "林业", "水利", "其他")
ACCIDENT_TYPES = ("物体打击", "车辆伤害", "机械伤害", "起重伤害", "触电", "淹溺", "灼烫", "火灾", "高处坠落",
                  "坍塌", "冒顶片帮", "透水", "放炮", "火药爆炸", "瓦斯爆炸", "锅炉爆炸", "容器爆炸", "其他爆炸",
                  "中毒和窒息", "其他伤害")
RISK_LEVELS = ("重大风险", "较大风险", "一般风险", "低风险")
RISK_COLOURS = {"重大风险": "FF0000", "较大风险": "FFC000", "一般风险": "FFFF00", "低风险": "0070C0"}
RISK_COLOUR_NAMES = {"重大风险": "红", "较大风险": "橙", "一般风险": "黄", "低风险": "蓝"}
CONTROL_TIERS = ("公司", "车间", "班组", "岗位")
HAZARD_STATUSES = ("待整改", "整改中", "待验收", "已销号")
YES_NO = ("是", "否")

ENTERPRISE = Register(
    key="enterprise", sheet="企业信息", key_value=True,
    help="企业基本信息，每个项目填在右侧一格。统一社会信用代码是企业在档案中的唯一标识。",
    fields=(
        Field("name", "企业名称", required=True, aliases=("单位名称",), width=30),
        Field("uscc", "统一社会信用代码", FieldType.USCC, True, aliases=("社会信用代码", "信用代码"),
              help="18位，字母为大写，不含 I、O、S、V、Z"),
        Field("county", "所属县（市、区）", required=True, aliases=("所属县区", "县（市、区）", "县区")),
        Field("township", "乡镇（街道）/产业园区", aliases=("乡镇（街道）", "乡镇", "产业园区")),
        Field("industry", "行业领域", C, True, INDUSTRIES, aliases=("行业",)),
        Field("size", "企业类型", C, False, ("小型", "微型", "门店商铺"), aliases=("企业规模",)),
        Field("address", "地址", aliases=("企业地址",)),
        Field("principal", "主要负责人", required=True, aliases=("负责人", "法定代表人")),
        Field("phone", "联系电话", P, True, help="手机号11位，或带区号的座机号"),
        Field("safety_officer", "安全管理人员", aliases=("安全员",)),
        Field("staff_count", "从业人员数", INT, aliases=("职工人数", "员工人数")),
        Field("filled_by", "填报人"),
        Field("filled_on", "填报日期", D, True),
    ),
)

RISK = Register(
    key="risk", sheet="风险管控清单", sheet_aliases=("风险分级管控清单", "风险清单"),
    help="每行一个风险点。可按 LEC 或 LS 法填写因子，由系统计算风险值和等级；也可直接填写风险等级。",
    fields=(
        Field("name", "风险点名称", required=True, aliases=("风险名称", "风险点"), width=18),
        Field("kind", "风险点类型", C, False, ("设备设施", "作业活动", "作业场所"), aliases=("类型",)),
        Field("source", "危险源/危险有害因素", required=True,
              aliases=("危险源", "危险有害因素", "危险源名称"), width=24),
        Field("accident", "可能导致的事故类型", M, True, ACCIDENT_TYPES, aliases=("事故类型",),
              help="可填多个，用顿号“、”分隔", width=18),
        Field("location", "所在位置", required=True, aliases=("位置", "所在区域"), width=14),
        Field("state", "当前状态", C, True, ("受控", "失控", "停用"), aliases=("状态",), width=10),
        Field("method", "评价方法", C, False, ("LEC", "LS", "直接判定"), width=10),
        Field("l", "L", N, width=6, help="LEC：0.1、0.2、0.5、1、3、6、10；LS：1～5"),
        Field("e", "E", N, width=6, help="0.5、1、2、3、6、10"),
        Field("c", "C", N, width=6, help="1、3、7、15、40、100"),
        Field("s", "S", N, width=6, help="1～5"),
        Field("score", "风险值", N, width=8, help="可不填，由系统按 L×E×C 或 L×S 计算"),
        Field("level", "风险等级", C, True, RISK_LEVELS, aliases=("风险级别", "等级"), width=10),
        Field("controls", "管控措施", required=True, aliases=("管控措施（技术、管理、培训、防护、应急）",), width=30),
        Field("emergency", "应急处置措施", aliases=("应急措施",), width=24),
        Field("tier", "管控层级", C, False, CONTROL_TIERS, width=10),
        Field("unit", "责任单位", required=True, aliases=("责任部门",)),
        Field("owner", "责任人", required=True),
        Field("phone", "联系电话", P),
        Field("identified_on", "辨识日期", D),
    ),
)

HAZARD = Register(
    key="hazard", sheet="隐患排查治理清单", sheet_aliases=("隐患排查治理台账", "隐患清单"),
    help="每行一条隐患，按“登记→整改→验收→销号”闭环填写。重大隐患须同时填写右侧的报告栏目。",
    fields=(
        Field("number", "隐患编号", aliases=("编号", "序号"), width=10, help="同一台账内不得重复"),
        Field("name", "隐患名称", required=True, width=18),
        Field("location", "隐患位置", required=True, aliases=("位置", "隐患部位")),
        Field("description", "隐患描述（现状）", required=True, aliases=("隐患描述", "隐患内容", "隐患现状"), width=30),
        Field("category", "隐患类别", C, False, ("物的不安全状态", "人的不安全行为", "管理缺陷"), width=14),
        Field("level", "隐患等级", C, True, ("一般隐患", "重大隐患"), aliases=("隐患级别",), width=10),
        Field("risk", "关联风险点", aliases=("关联风险",), help="填写风险管控清单中的风险点名称"),
        Field("check_type", "排查类型", C, False, ("日常", "定期", "专项", "季节性", "节假日", "综合"), width=10),
        Field("found_on", "发现日期", D, True, aliases=("排查日期", "发现时间")),
        Field("inspector", "排查人"),
        Field("goal", "治理目标", required=True, aliases=("整改目标",), width=20),
        Field("measures", "治理措施", required=True, aliases=("整改措施",), width=24),
        Field("deadline", "治理期限", D, True, aliases=("整改期限", "整改时限", "治理时限")),
        Field("unit", "责任单位", aliases=("整改责任单位", "责任部门")),
        Field("owner", "责任人", required=True, aliases=("整改责任人",)),
        Field("funds", "治理资金（元）", N, aliases=("治理资金", "整改资金")),
        Field("status", "治理状态", C, True, HAZARD_STATUSES, aliases=("整改状态", "状态"), width=10),
        Field("completed_on", "完成日期", D, aliases=("整改完成日期",)),
        Field("accepted_by", "验收人", width=10),
        Field("accepted_on", "验收日期", D),
        Field("acceptance", "验收结论", C, False, ("通过", "不通过"), width=10),
        Field("cause", "产生原因", help="重大隐患必填", width=20),
        Field("severity", "危害程度", help="重大隐患必填：危害程度和整改难易程度", width=20),
        Field("plan", "治理方案", help="重大隐患必填：目标任务、方法措施、经费物资、人员、时限、安全措施和应急预案", width=30),
        Field("suspended", "是否停产停业", C, False, YES_NO, help="重大隐患必填", width=10),
        Field("supervised", "是否挂牌督办", C, False, YES_NO, help="重大隐患必填", width=10),
        Field("supervisor", "督办单位"),
        Field("reported_on", "上报日期", D, help="重大隐患必填：向负有安全监管职责的部门报告的日期"),
    ),
)

POST = Register(
    key="post", sheet="岗位安全责任清单", sheet_aliases=("岗位清单", "岗位安全责任"),
    help="每行一个岗位。五个答案栏就是“一题”的五个应知应会问题，也是“一卡”告知卡的内容。",
    fields=(
        Field("workshop", "车间", required=True, aliases=("车间（部门）", "部门")),
        Field("team", "班组"),
        Field("post", "岗位", required=True, aliases=("岗位名称",)),
        Field("duties", "岗位职责", required=True, help="问题一：岗位职责是什么？", width=30),
        Field("hazards", "危险有害因素", required=True, help="问题二：所在岗位有哪些危险危害因素？", width=30),
        Field("triggers", "事故诱因", required=True, help="问题三：这些因素在何种情况下可能导致事故？", width=30),
        Field("controls", "防范控制措施", required=True, help="问题四：应采取哪些措施防范控制？", width=30),
        Field("emergency", "应急处置措施", required=True, help="问题五：发生事故时如何处置？", width=30),
        Field("level", "岗位风险等级", C, False, RISK_LEVELS, width=10),
        Field("procedure", "操作规程", width=20),
        Field("emergency_phone", "应急电话", help="内部应急电话，可填多个"),
    ),
)

EMPLOYEE = Register(
    key="employee", sheet="岗位人员", sheet_aliases=("员工名单", "人员名单"),
    help="每名员工一行，岗位须是岗位安全责任清单中的岗位（每人一张清单据此生成）。",
    fields=(
        Field("name", "姓名", required=True, width=10),
        Field("workshop", "车间", required=True),
        Field("team", "班组"),
        Field("post", "岗位", required=True, help="须与岗位安全责任清单中的岗位一致"),
        Field("mobile", "手机号", P, aliases=("手机", "联系电话")),
    ),
)

TRAINING = Register(
    key="training", sheet="教育培训记录", core=False, sheet_aliases=("培训记录", "教育培训台账"),
    help="每次培训一行。近 12 个月没有培训记录会被列为问题。",
    fields=(
        Field("date", "日期", D, True, aliases=("培训日期",)),
        Field("topic", "培训主题", required=True, aliases=("培训内容",), width=24),
        Field("audience", "培训对象"),
        Field("attendees", "参加人数", INT, True),
        Field("hours", "学时", N, width=8),
        Field("trainer", "授课人"),
        Field("assessment", "考核情况"),
    ),
)

DRILL = Register(
    key="drill", sheet="应急演练记录", core=False, sheet_aliases=("演练记录", "应急演练台账"),
    help="每次演练一行。近 12 个月没有演练记录会被列为问题。",
    fields=(
        Field("date", "日期", D, True, aliases=("演练日期",)),
        Field("subject", "演练科目", required=True, aliases=("演练内容", "演练名称"), width=24),
        Field("form", "演练形式", C, False, ("桌面推演", "实战演练")),
        Field("attendees", "参加人数", INT, True),
        Field("evaluation", "评估结论", width=20),
        Field("improvements", "改进措施", width=24),
    ),
)

QUIZ = Register(
    key="quiz", sheet="答题确认记录", core=False, sheet_aliases=("应知应会答题记录", "答题记录"),
    help="员工岗前回答五个应知应会问题后的确认记录（一题）。",
    fields=(
        Field("date", "日期", D, True),
        Field("name", "姓名", required=True, width=10),
        Field("post", "岗位", required=True),
        Field("result", "结果", C, False, ("全部正确", "部分正确", "未通过")),
        Field("via", "确认方式", C, False, ("手机", "纸质")),
    ),
)

# The columns that identify an enterprise wherever it is listed (roll-up sheets, roster, archive
# listings): declared here once, as fields of 企业信息, in the order the summaries show them.
IDENTITY: tuple[Field, ...] = tuple(ENTERPRISE[k] for k in ("uscc", "name", "county", "township", "industry"))


def identity_columns(name_key: str = "name") -> tuple[tuple[str, str], ...]:
    """(key, header) of the identity columns; *name_key* renames the 企业名称 key (hazard lists use "enterprise")."""
    return tuple((name_key if f.key == "name" else f.key, f.header) for f in IDENTITY)


# --- 三有五化 (guidance 二(五)): what the standard asks besides the three registers -----------------

CHECK_TYPES = ("日常", "定期", "专项", "季节性", "节假日", "综合")
# How often an inspection is planned, and the days it may lie back before the plan counts as not kept.
FREQUENCIES = {"每班": 1, "每日": 1, "每周": 7, "每月": 31, "每季度": 92, "每半年": 183, "每年": 366}

INSPECTION_PLAN = Register(
    key="inspection_plan", sheet="隐患排查计划", core=False, sheet_aliases=("排查计划", "隐患排查计划表"),
    help="每行一项排查任务：排查什么、在哪里、多久一次、谁负责（五化：明确隐患排查内容、频次和要求）。"
         "按隐患排查治理清单（同一位置、同一排查类型的发现日期）和“最近排查日期”，超过频次没有排查的会被列为问题。",
    fields=(
        Field("content", "排查内容", required=True, aliases=("排查项目", "排查事项"), width=30),
        Field("location", "排查范围", required=True, aliases=("排查位置", "排查区域", "排查部位"), width=16,
              help="车间、区域或设备，与隐患排查治理清单的“隐患位置”写法一致"),
        Field("check_type", "排查类型", C, False, CHECK_TYPES, width=10),
        Field("frequency", "排查频次", C, True, tuple(FREQUENCIES), aliases=("频次",), width=10),
        Field("inspector", "排查人", required=True, aliases=("排查责任人", "责任人"), width=10),
        Field("unit", "责任部门", aliases=("责任单位",)),
        Field("standard", "排查标准和要求", aliases=("排查标准", "排查要求"), width=30),
        Field("last_done", "最近排查日期", D, help="最近一次按本计划排查的日期（没有发现隐患也要填写）"),
    ),
)

REWARD = Register(
    key="reward", sheet="奖惩考核记录", core=False, sheet_aliases=("奖惩考核", "奖惩记录", "安全奖惩记录"),
    help="每次安全奖励或处罚一行（三有：厂区有公告，对奖惩考核进行公告）。近 12 个月的记录印在风险公告栏上；"
         "近 12 个月没有记录会被列为问题。",
    fields=(
        Field("date", "日期", D, True, aliases=("考核日期", "奖惩日期")),
        Field("target", "奖惩对象", required=True, aliases=("对象", "被考核人", "被考核单位"), width=14,
              help="部门、班组或人员"),
        Field("kind", "奖惩类别", C, True, ("奖励", "处罚"), aliases=("类别",), width=10),
        Field("reason", "事由", required=True, aliases=("奖惩事由", "考核事由"), width=30),
        Field("measure", "奖惩内容", aliases=("奖惩措施", "处理结果"), width=20, help="如：奖励 200 元、通报批评"),
        Field("amount", "金额（元）", N, aliases=("金额",), width=10),
        Field("approver", "考核人", aliases=("批准人",), width=10),
    ),
)

PROCEDURE = Register(
    key="procedure", sheet="岗位操作规程", core=False, sheet_aliases=("操作规程", "安全操作规程"),
    help="每个岗位一行：操作规程的名称和内容（三有：岗位有规程；五化：岗位操作标准化）。内容印在该岗位的告知卡上。"
         "岗位须是岗位安全责任清单中的岗位；没有操作规程内容的岗位会被列为问题。",
    fields=(
        Field("post", "岗位", required=True, aliases=("岗位名称",), help="须与岗位安全责任清单中的岗位一致"),
        Field("title", "规程名称", required=True, aliases=("操作规程名称",), width=20),
        Field("steps", "操作程序和要求", required=True, aliases=("操作步骤", "操作规程内容", "规程内容"), width=60,
              help="按作业前、作业中、作业后写明操作步骤和标准，可在格内换行"),
        Field("prohibitions", "禁止事项", aliases=("严禁事项",), width=30),
        Field("revised_on", "修订日期", D, aliases=("编制日期",)),
    ),
)

UNIT_DUTY = Register(
    key="unit_duty", sheet="车间班组责任清单", core=False, sheet_aliases=("车间班组安全责任清单", "车间班组责任"),
    help="从车间到班组：每个车间、每个班组一行，写明负责人、安全职责和管控的风险（三单：车间责任清、能管控）。"
         "岗位安全责任清单中出现的每个车间和班组都应有一行，印在岗位安全责任清单文书的前面。",
    fields=(
        Field("tier", "层级", C, True, ("车间", "班组"), width=8),
        Field("workshop", "车间", required=True, aliases=("车间（部门）", "部门")),
        Field("team", "班组", help="层级为“班组”时填写"),
        Field("head", "负责人", required=True, aliases=("车间主任", "班组长"), width=10),
        Field("duties", "安全职责", required=True, aliases=("安全责任", "责任内容"), width=40),
        Field("risks", "管控的风险点", aliases=("管控风险", "主要风险"), width=30),
        Field("phone", "联系电话", P),
    ),
)

SIGN = Register(
    key="sign", sheet="警示标志清单", core=False, sheet_aliases=("警示标志", "安全警示标志", "安全标志台账"),
    help="按区域登记设置的安全警示标志和危害告知牌（五化：警示标志醒目化）。风险管控清单中有较大及以上风险的区域"
         "都应设置警示标志；状态为损坏或缺失的会被列为问题。清单按区域印在风险公告栏上。",
    fields=(
        Field("location", "区域", required=True, aliases=("设置区域", "设置位置", "位置"), width=16,
              help="与风险管控清单的“所在位置”写法一致"),
        Field("name", "标志名称", required=True, aliases=("警示标志",), width=20, help="如：当心机械伤人、禁止烟火"),
        Field("kind", "标志类别", C, False, ("禁止标志", "警告标志", "指令标志", "提示标志", "危害告知牌"), width=12),
        Field("count", "数量", INT, width=8),
        Field("state", "状态", C, False, ("完好", "损坏", "缺失"), width=8),
        Field("checked_on", "检查日期", D),
    ),
)

REGISTERS: tuple[Register, ...] = (ENTERPRISE, RISK, HAZARD, POST, EMPLOYEE, TRAINING, DRILL, QUIZ,
                                   INSPECTION_PLAN, REWARD, PROCEDURE, UNIT_DUTY, SIGN)
BY_KEY: dict[str, Register] = {r.key: r for r in REGISTERS}
BY_SHEET: dict[str, Register] = {r.sheet: r for r in REGISTERS}
TABLES: tuple[Register, ...] = tuple(r for r in REGISTERS if not r.key_value)

# 重大隐患 must also carry these (DOMAIN §5, 16号令 art. 15).
MAJOR_HAZARD_FIELDS = ("cause", "severity", "plan", "suspended", "supervised", "reported_on")
# 已销号 requires these (DOMAIN §5).
CLOSED_HAZARD_FIELDS = ("completed_on", "accepted_by", "accepted_on", "acceptance")


def iter_fields() -> Iterator[tuple[Register, Field]]:
    for register in REGISTERS:
        for f in register.fields:
            yield register, f


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
