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
# Row of the identity sheet naming (by key, comma-separated) the registers `dpsheets convert` found in no
# source: while such a register is still empty it is read as missing, as it was in the originals.
META_NOT_CONVERTED = "not_converted"


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
    """One column of a register: its key, header, type, choices and the other spellings real registers use."""

    key: str
    header: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    help: str = ""
    width: int = 14
    # Sub-columns under a group header that are read together as this one field, each labelled
    # (工程技术措施 / 管理措施 / … under 现有管控措施).
    parts: tuple[str, ...] = ()
    # How real registers spell the choices: (spelling, choice); read as the choice with a warning.
    value_aliases: tuple[tuple[str, str], ...] = ()
    # A date that may be written relative to another date field of the row (整改期限 “3日内”).
    relative_to: str = ""


@dataclass(frozen=True)
class Register:
    """One sheet of the standard workbook: its fields, help text and the other names real registers give it."""

    key: str
    sheet: str
    fields: tuple[Field, ...]
    help: str
    key_value: bool = False  # 企业信息 is label/value pairs, not a table
    core: bool = True  # the three registers and the enterprise sheet must exist
    sheet_aliases: tuple[str, ...] = ()
    label: str = ""  # short name in counts: 读取风险 15 条
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

# --- how real registers write the choices ------------------------------------------------------
# Sources of the spellings (noted per issue 9): DB37/T 2882 and its JHA/SCL 评价记录 (一级…四级, 红橙黄蓝,
# 公司（厂）级 / 车间级 / 班组级 / 岗位级 管控层级); the easypoi import template of
# github.com/xiaojiege123/poi HiddenDangerImportVo (一般隐患 / 较大隐患 / 重大隐患); the 建设系统安全隐患库 mapping
# of github.com/MouseDoNotLoveCat/luhao_CDRLApp (销号情况 已整改 / 整改完成); the 隐患治理信息台账 of
# github.com/dudu-du/msm (复查结果); 16号令 art. 3 (一般事故隐患 / 重大事故隐患).


def _risk_level_aliases() -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    grades = (("一", "1", "Ⅰ", "I"), ("二", "2", "Ⅱ", "II"), ("三", "3", "Ⅲ", "III"), ("四", "4", "Ⅳ", "IV"))
    for level, numerals, colour in zip(RISK_LEVELS, grades, "红橙黄蓝", strict=True):
        short = level[:-2]
        out += [(short, level), (f"{short}风险等级", level), (f"{short}安全风险", level)]
        for n in numerals:
            out += [(n, level), (f"{n}级", level), (f"{n}级风险", level)]
        for c in (colour, f"{colour}色"):
            out += [(c, level), (f"{c}风险", level), (f"{c}色风险" if len(c) == 1 else f"{c}风险", level),
                    (f"{level}（{c}）", level), (f"{c}（{level}）", level), (f"{short}（{c}）", level)]
    # DB37/T 2882 grades LEC in five levels; its 4 and 5 are both 低风险.
    out += [("五", "低风险"), ("5", "低风险"), ("五级", "低风险"), ("5级", "低风险"), ("Ⅴ级", "低风险")]
    return tuple(dict(out).items())


RISK_LEVEL_ALIASES = _risk_level_aliases()
TIER_ALIASES = (
    ("公司级", "公司"), ("厂级", "公司"), ("企业级", "公司"), ("公司（厂）级", "公司"), ("厂", "公司"), ("企业", "公司"),
    ("公司层级", "公司"), ("厂部", "公司"), ("部门级", "车间"), ("车间级", "车间"), ("部室级", "车间"),
    ("车间（部门）级", "车间"), ("部门", "车间"), ("车间（部门）", "车间"), ("科室", "车间"), ("班组级", "班组"),
    ("工段", "班组"), ("岗位级", "岗位"), ("个人", "岗位"), ("员工", "岗位"),
)
HAZARD_LEVEL_ALIASES = (
    ("一般", "一般隐患"), ("一般事故隐患", "一般隐患"), ("重大", "重大隐患"), ("重大事故隐患", "重大隐患"),
    # 16号令 knows only 一般 and 重大; platforms' 较大/轻微 are not 重大.
    ("较大隐患", "一般隐患"), ("较大", "一般隐患"), ("轻微隐患", "一般隐患"), ("轻微", "一般隐患"),
    ("一般隐患A级", "一般隐患"), ("一般隐患B级", "一般隐患"),
)
# 整改状态 / 整改结果 / 是否消除 / 销号情况: what each spelling means for the standard lifecycle.
HAZARD_STATUS_ALIASES = (
    ("已闭环", "已销号"), ("闭环", "已销号"), ("已验收", "已销号"), ("验收通过", "已销号"), ("已关闭", "已销号"),
    ("销号", "已销号"), ("已消除", "已销号"), ("是", "已销号"),
    ("已整改", "已销号"), ("整改完成", "已销号"), ("已完成", "已销号"), ("完成", "已销号"), ("已整改完成", "已销号"),
    ("未整改", "待整改"), ("未消除", "待整改"), ("否", "待整改"), ("待处理", "待整改"), ("未完成", "待整改"),
    ("正在整改", "整改中"), ("延期整改", "整改中"), ("逾期未整改", "整改中"), ("限期整改", "整改中"), ("整改未完成", "整改中"),
    ("待复查", "待验收"), ("待核查", "待验收"), ("已整改待验收", "待验收"),
)
# Spellings read as 已销号 although the row need not show an acceptance: the warning says so.
ASSUMED_CLOSED = ("已整改", "整改完成", "已完成", "完成", "已整改完成", "是", "已消除")
ACCEPTANCE_ALIASES = (
    ("合格", "通过"), ("验收合格", "通过"), ("同意销号", "通过"), ("符合要求", "通过"), ("已整改", "通过"),
    ("整改完成", "通过"), ("已销号", "通过"), ("验收通过", "通过"), ("是", "通过"),
    ("不合格", "不通过"), ("未通过", "不通过"), ("验收不合格", "不通过"), ("未整改", "不通过"), ("否", "不通过"),
)
CHECK_TYPE_ALIASES = tuple((f"{t}{suffix}", t) for t in ("日常", "定期", "专项", "季节性", "节假日", "综合")
                           for suffix in ("检查", "排查")) + (("日常巡查", "日常"), ("节前", "节假日"))
RISK_STATE_ALIASES = (("已受控", "受控"), ("可控", "受控"), ("正常", "受控"), ("未受控", "失控"), ("不受控", "失控"),
                      ("停止使用", "停用"), ("已停用", "停用"))
KIND_ALIASES = (("设备", "设备设施"), ("设施", "设备设施"), ("作业", "作业活动"), ("活动", "作业活动"), ("场所", "作业场所"),
                ("区域", "作业场所"))
METHOD_ALIASES = (("LEC法", "LEC"), ("作业条件危险性分析法", "LEC"), ("LS法", "LS"), ("风险矩阵", "LS"),
                  ("风险矩阵法", "LS"), ("直接判定法", "直接判定"))
ACCIDENT_ALIASES = (("着火", "火灾"), ("起火", "火灾"), ("爆炸", "其他爆炸"), ("中毒", "中毒和窒息"), ("窒息", "中毒和窒息"),
                    ("烫伤", "灼烫"), ("灼伤", "灼烫"), ("坠落", "高处坠落"), ("电击", "触电"), ("机械伤人", "机械伤害"))

ENTERPRISE = Register(
    key="enterprise", sheet="企业信息", key_value=True, label="企业信息",
    sheet_aliases=("企业基本信息", "单位信息", "企业基本情况", "基本信息"),
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

# Aliases of the risk and hazard registers come from registers in use; each source is noted beside
# the headers it contributed:
#   [DB37] DB37/T 2882 工贸企业风险分级管控 JHA / SCL 评价记录 (work-activity and equipment sheets: 作业步骤,
#          危险源或潜在事件, 现有管控措施 over 工程技术措施/管理措施/培训教育措施/个体防护措施/应急处置措施,
#          L E C D, 评价级别, 管控级别, 管控层级, 建议新增（改进）措施), as printed on 360docs.net/doc/7511997694.html
#   [JHA]  工作危害分析（JHA）记录表 / 安全检查表（SCL）分析记录表 (m.zixin.com.cn/doc/5432973.html;
#          51dongshi.net/eedfrcvdcbvcr.html: 工作任务, 工作步骤, 危害或潜在事件, 主要后果, 现有的控制措施, L S R)
#   [MSM]  github.com/dudu-du/msm 隐患治理信息台账 (排查时间, 排查人, 隐患部位, 治理措施, 完成时限, 复查时间, 复查人, 复查结果)
#   [POI]  github.com/xiaojiege123/poi HiddenDangerImportVo, an easypoi import template (隐患描述, 隐患位置,
#          整改建议, 整改时间)
#   [HSE]  the same platform's entities, github.com/paddy235/ERCHTMS ERCHTMS.Application/ERCHTMS.Entity/
#          HiddenTroubleManage/HTChangeInfoEntity.cs (CHANGEDEADINE 整改截至时间, CHANGEFINISHDATE 整改完成时间) and
#          HTAcceptInfoEntity.cs / HtReCheckEntity.cs (ACCEPTDATE, RECHECKDATE 复查验证时间)
#   [JZB]  github.com/MouseDoNotLoveCat/luhao_CDRLApp docs/design/DATA_MODEL_DESIGN.md, 建设系统安全隐患库 (检查时间, 检查人, 隐患问题描述, 整改要求（措施）,
#          整改期限, 整改完成日期, 销号情况)
#   [EAM]  github.com/ray98f/eam src/main/java/com/wzmtr/eam/dto/req/secure/SecureHazardAddReqDTO.java, a metro
#          EAM's hazard record (隐患排查单号, 报告人, 地点, 隐患照片, 计划完成日期, 整改部门, 整改照片, 复查人, 复查日期, 完成情况)
#   [YFC]  github.com/yingfengxinxi/YFConstruction admin/build/src/main/java/com/kakarote/build/jg/entity/BO/
#          JgSafetyDangerRecordBO.java, a construction platform's 安全隐患记录 (检查负责人, 检查区域, 整改人, 整改期限,
#          整改完成时间, 复查人, 复查结果, 复查完成时间)
#   [ERC]  github.com/paddy235/ERCHTMS, an EHS platform (C#), its Excel templates under
#          ERCHTMS.Application/ERCHTMS.Web/Resource/ExcelTemplate/: 隐患排查治理台账模板.xls (检查场所, 检查日期,
#          事故隐患名称与内容, 隐患类别（一般、重大）, 整改要求 over 整改措施/整改资金/整改期限/责任单位/责任人, 整改情况 over
#          整改结果/复查人/复查时间, 隐患图片, 整改图片), safetycheck/隐患导入模板.xlsx and 隐患导入模板(华电可门版本).xls
#          (隐患编码, 隐患区域, 事故隐患描述(简题), 整改截止时间, 验收人, 验收日期), 事故隐患排查治理情况一览表.xlsx
#          (治理期限, 是否消除), 已整改隐患导入模板.xls (隐患具体位置, 核查人, 核查日期), 风险评价清单导出模板.xls (sheets
#          作业活动类 and 设备设施类: 作业活动, 活动步骤, 危害名称, 设备名称, 检查项目名称, 不符合标准情况及后果,
#          现有的控制措施, 风险等级 over 后果（S）/暴露（E）/可能性（P）/风险值R), 风险库导入模板.xls (部门\n班组,
#          区域\n场所, 风险点, 作业/操作项目, 作业工序/操作步骤, 风险控制措施, 风险评估 over 事件发生的可能性（P）/
#          暴露于危险环境的频繁程度（E）/事件后果的严重性（S）/风险分值P*E*S, 风险\n等级), 危险源辨识导入模板.xls
#          (所属区域, 危险源风险等级, 安全控制措施, 监督管理责任人), 风险管控清单导出模板.xls (中心（部门）)
#   [ISSUE] the layouts quoted in issue 9 (作业活动 / 工作任务 / 设备名称, 区域位置 / 所在地点, 可能性（P）,
#          暴露（E）, 后果（S）, 风险值 D, 检查场所, 整改结果, 是否消除, 核查人, 核查日期, 隐患编码)
RISK = Register(
    key="risk", sheet="风险管控清单", label="风险",
    sheet_aliases=("风险分级管控清单", "风险清单", "风险库", "风险点清单", "风险辨识清单", "风险管控台账", "安全风险清单",
                   "风险点台账", "危险源清单", "风险分级管控台账", "安全风险分级管控清单"),
    help="每行一个风险点。可按 LEC 或 LS 法填写因子，由系统计算风险值和等级；也可直接填写风险等级。",
    fields=(
        Field("name", "风险点名称", required=True, width=18,
              aliases=("风险名称", "风险点", "作业活动", "工作任务", "设备名称", "设备设施名称", "作业活动名称", "风险点名称（作业活动）",
                       "风险点（设备设施/作业活动）", "设备设施", "作业活动/设备设施", "场所/设备设施/作业活动", "检查对象")),
        Field("kind", "风险点类型", C, False, ("设备设施", "作业活动", "作业场所"), aliases=("类型", "风险点类别", "风险类型"),
              value_aliases=KIND_ALIASES),
        Field("source", "危险源/危险有害因素", required=True, width=24,
              aliases=("危险源", "危险有害因素", "危险源名称", "危险源或潜在事件", "危害或潜在事件", "危害因素", "危害",
                       "主要危险有害因素", "危险源（危险有害因素）", "危险因素", "不符合标准情况及后果", "潜在危险",
                       "危害名称"),  # [ERC] 作业活动类
              # [ERC] JHA / SCL sheets; 风险库导入模板 (作业/操作项目, 作业工序/操作步骤)
              parts=("作业步骤", "工作步骤", "检查项目", "项目", "活动步骤", "检查项目名称", "作业/操作项目", "作业工序/操作步骤")),
        Field("accident", "可能导致的事故类型", M, True, ACCIDENT_TYPES,
              aliases=("事故类型", "可能导致的事故", "可能发生的事故类型及后果", "可能发生的事故类型", "可能造成的事故", "事故类别",
                       "可能导致的事故类别"),
              help="可填多个，用顿号“、”分隔", width=18, value_aliases=ACCIDENT_ALIASES),
        Field("location", "所在位置", required=True, width=14,
              aliases=("位置", "所在区域", "区域位置", "所在地点", "区域", "场所", "所在场所", "所在部位", "部位", "地点",
                       "作业区域", "作业场所",
                       "区域场所", "所属区域")),  # [ERC] 风险库导入模板 (区域\n场所), 危险源辨识导入模板
        Field("state", "当前状态", C, True, ("受控", "失控", "停用"), aliases=("状态", "管控状态"), width=10,
              value_aliases=RISK_STATE_ALIASES),
        Field("method", "评价方法", C, False, ("LEC", "LS", "直接判定"), aliases=("风险评价方法", "评价方法（LEC/LS）"), width=10,
              value_aliases=METHOD_ALIASES),
        Field("l", "L", N, width=6, help="LEC：0.1、0.2、0.5、1、3、6、10；LS：1～5",
              aliases=("可能性", "可能性（L）", "可能性（P）", "可能性P", "L值", "发生的可能性", "事故发生的可能性（L）",
                       "事故发生的可能性", "可能性L",
                       "事件发生的可能性（P）")),  # [ERC] 风险库导入模板
        Field("e", "E", N, width=6, help="0.5、1、2、3、6、10",
              aliases=("暴露", "暴露（E）", "暴露频率", "E值", "暴露频率（E）", "人员暴露于危险环境的频繁程度（E）",
                       "暴露于危险环境的频繁程度", "频次", "频次（E）",
                       "暴露于危险环境的频繁程度（E）")),  # [ERC] 风险库导入模板
        Field("c", "C", N, width=6, help="1、3、7、15、40、100",
              aliases=("后果（C）", "C值", "事故后果（C）", "后果严重程度（C）", "发生事故可能造成的后果（C）", "后果", "后果（S）",
                       "事件后果的严重性（S）")),  # [ERC] P×E×S: S is LEC's C when the sheet has E
        Field("s", "S", N, width=6, help="1～5",
              aliases=("严重性", "严重性（S）", "严重程度（S）", "严重程度", "S值", "后果严重性（S）", "后果（S）", "后果",
                       "事件后果的严重性（S）")),
        Field("score", "风险值", N, width=8, help="可不填，由系统按 L×E×C 或 L×S 计算",
              aliases=("风险值 D", "风险值D", "风险值（D）", "D", "D值", "R", "风险值（R）", "风险度", "风险度R", "风险度（R）",
                       "风险值（D=L×E×C）", "风险值（R=L×S）", "风险分值", "D=L×E×C", "R=L×S", "风险值R",
                       "风险分值P*E*S")),  # [ERC] 风险值R, 风险分值P*E*S
        Field("level", "风险等级", C, True, RISK_LEVELS, width=10, value_aliases=RISK_LEVEL_ALIASES,
              aliases=("风险级别", "等级", "风险分级", "评价级别", "风险等级（颜色）", "风险等级/颜色", "风险评价等级", "风险色度",
                       "管控级别", "危险源风险等级")),  # [ERC] 危险源辨识导入模板
        Field("controls", "管控措施", required=True, width=30,
              aliases=("管控措施（技术、管理、培训、防护、应急）", "现有控制措施", "现有的控制措施", "现有管控措施", "控制措施",
                       "风险管控措施", "主要管控措施", "现有安全控制措施", "管控措施（现有）",
                       "风险控制措施", "安全控制措施"),  # [ERC] 风险库导入模板, 危险源辨识导入模板
              parts=("工程技术措施", "管理措施", "培训教育措施", "个体防护措施", "工程控制措施", "安全管理措施")),
        Field("emergency", "应急处置措施", aliases=("应急措施", "应急处置"), width=24),
        Field("tier", "管控层级", C, False, CONTROL_TIERS, width=10, value_aliases=TIER_ALIASES,
              aliases=("管控级别", "管控层次", "分级管控层级", "管控层级（公司/车间/班组/岗位）")),
        Field("unit", "责任单位", required=True,
              aliases=("责任部门", "管控单位", "管控部门", "责任单位（部门）", "管控责任单位",
                       "部门班组", "中心（部门）")),  # [ERC] 风险库导入模板 (部门\n班组), 风险管控清单导出模板
        Field("owner", "责任人", required=True,
              aliases=("管控责任人", "负责人", "责任人员", "监督管理责任人")),  # [ERC] 危险源辨识导入模板
        Field("phone", "联系电话", P, aliases=("联系方式", "电话")),
        Field("identified_on", "辨识日期", D, aliases=("辨识时间", "评价日期", "分析日期", "辨识评价日期")),
    ),
)

HAZARD = Register(
    key="hazard", sheet="隐患排查治理清单", label="隐患",
    sheet_aliases=("隐患排查治理台账", "隐患清单", "隐患台账", "隐患排查台账", "隐患整改台账", "隐患排查治理记录", "事故隐患台账",
                   "隐患排查治理登记台账", "隐患治理台账", "隐患排查记录"),
    help="每行一条隐患，按“登记→整改→验收→销号”闭环填写。重大隐患须同时填写右侧的报告栏目。",
    fields=(
        # 序号 is a row counter, never the 隐患编号 (issue 9); it is ignored (see IGNORED_HEADERS).
        Field("number", "隐患编号", aliases=("编号", "隐患编码", "隐患单号", "隐患序号", "隐患排查单号"), width=12, help="同一台账内不得重复"),
        Field("name", "隐患名称", required=True, width=14, aliases=("问题名称", "隐患标题", "隐患事项")),
        Field("location", "隐患位置", required=True,
              aliases=("位置", "隐患部位", "检查场所", "隐患地点", "排查部位", "检查部位", "所在位置", "区域位置", "检查工点",
                       "隐患所在位置", "存在部位", "隐患所在部位", "检查区域", "所在地点", "部位",
                       "隐患区域", "隐患具体位置"), width=12),  # [ERC] 隐患导入模板, 已整改隐患导入模板
        Field("description", "隐患描述（现状）", required=True, width=20,
              aliases=("隐患描述", "隐患内容", "隐患现状", "隐患问题描述", "存在问题", "存在的问题", "隐患情况", "问题描述",
                       "隐患详情", "存在隐患", "检查发现的问题", "事故隐患内容", "隐患具体情况", "发现的问题",
                       "事故隐患描述（简题）", "事故隐患名称与内容")),  # [ERC] 隐患导入模板 / 一览表; 台账模板
        Field("category", "隐患类别", C, False, ("物的不安全状态", "人的不安全行为", "管理缺陷"), width=12,
              aliases=("隐患分类",)),
        Field("level", "隐患等级", C, True, ("一般隐患", "重大隐患"), width=10,
              # [ERC] 台账模板 writes the level under 隐患类别（一般、重大）: that exact header, never 隐患类别 itself
              aliases=("隐患级别", "隐患类别（一般、重大）"),
              value_aliases=HAZARD_LEVEL_ALIASES),
        Field("risk", "关联风险点", aliases=("关联风险", "所属风险点", "风险点"), help="填写风险管控清单中的风险点名称", width=10),
        Field("check_type", "排查类型", C, False, ("日常", "定期", "专项", "季节性", "节假日", "综合"), width=10,
              aliases=("检查类型", "排查类别", "检查类别", "排查方式"), value_aliases=CHECK_TYPE_ALIASES),
        Field("found_on", "发现日期", D, True,
              aliases=("排查日期", "发现时间", "检查日期", "检查时间", "排查时间", "登记日期", "发现日期（排查日期）"), width=11),
        Field("inspector", "排查人", aliases=("检查人", "发现人", "排查人员", "检查人员", "报告人", "检查负责人"), width=8),
        Field("goal", "治理目标", required=True, aliases=("整改目标", "整改要求"), width=12),
        Field("measures", "治理措施", required=True, width=16,
              aliases=("整改措施", "整改建议", "整改要求（措施）", "整改意见", "整改措施（建议）")),
        Field("deadline", "治理期限", D, True, relative_to="found_on",
              aliases=("整改期限", "整改时限", "治理时限", "整改截止时间", "整改截止日期", "整改时间", "完成时限", "要求完成时间",
                       "要求整改时间", "计划完成时间", "计划完成日期", "整改完成时限", "限期整改时间", "要求完成日期", "规定整改期限"), width=11),
        Field("unit", "责任单位", aliases=("整改责任单位", "责任部门", "整改部门", "整改单位", "整改责任部门"), width=12),
        Field("owner", "责任人", required=True, aliases=("整改责任人", "整改负责人", "责任人员", "整改人"), width=8),
        Field("funds", "治理资金（元）", N, aliases=("治理资金", "整改资金", "整改资金（元）", "投入资金（元）", "整改费用（元）"), width=10),
        Field("status", "治理状态", C, True, HAZARD_STATUSES, width=10, value_aliases=HAZARD_STATUS_ALIASES,
              aliases=("整改状态", "状态", "整改情况", "整改结果", "是否消除", "整改完成情况", "销号情况", "隐患状态", "是否整改",
                       "是否已整改", "完成情况")),
        Field("completed_on", "完成日期", D,
              aliases=("整改完成日期", "整改完成时间", "实际完成日期", "实际完成时间", "完成时间"), width=11),
        Field("accepted_by", "验收人", width=8, aliases=("复查人", "核查人", "复核人", "验证人", "验收人员", "复查验收人")),
        Field("accepted_on", "验收日期", D,
              aliases=("验收时间", "复查时间", "复查日期", "核查日期", "核查时间", "复核日期", "复查验证日期", "验证时间", "复查完成时间",
                       "复查验证时间"), width=11),
        Field("acceptance", "验收结论", C, False, ("通过", "不通过"), width=10, value_aliases=ACCEPTANCE_ALIASES,
              aliases=("验收意见", "复查结果", "复查意见", "验收情况", "核查结果", "验收结果")),
        Field("cause", "产生原因", help="重大隐患必填", width=12),
        Field("severity", "危害程度", help="重大隐患必填：危害程度和整改难易程度", width=12),
        Field("plan", "治理方案", help="重大隐患必填：目标任务、方法措施、经费物资、人员、时限、安全措施和应急预案", width=18),
        Field("suspended", "是否停产停业", C, False, YES_NO, help="重大隐患必填", width=10),
        Field("supervised", "是否挂牌督办", C, False, YES_NO, help="重大隐患必填", width=10),
        Field("supervisor", "督办单位", width=12),
        # Not 上报时间: platforms use it for when a record was entered ([YFC] JgSafetyDangerRecordBO 上报时间, the
        # “上报时间” list columns of hazard-reporting apps), not for the report of a major hazard to the authorities.
        Field("reported_on", "上报日期", D, aliases=("报告日期",), help="重大隐患必填：向负有安全监管职责的部门报告的日期", width=11),
    ),
)

POST = Register(
    key="post", sheet="岗位安全责任清单", label="岗位",
    sheet_aliases=("岗位清单", "岗位安全责任", "岗位风险告知", "岗位责任清单"),
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
    key="employee", sheet="岗位人员", label="人员", sheet_aliases=("员工名单", "人员名单", "员工花名册", "花名册"),
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
    key="training", sheet="教育培训记录", core=False, label="培训",
    sheet_aliases=("培训记录", "教育培训台账", "培训台账", "安全培训记录", "安全教育培训台账"),
    help="每次培训一行。近 12 个月没有培训记录会被列为问题。",
    fields=(
        Field("date", "日期", D, True, aliases=("培训日期", "培训时间")),
        Field("topic", "培训主题", required=True, aliases=("培训内容", "培训项目", "培训名称"), width=24),
        Field("audience", "培训对象"),
        Field("attendees", "参加人数", INT, True, aliases=("培训人数", "参训人数", "人数")),
        Field("hours", "学时", N, width=8),
        Field("trainer", "授课人", aliases=("培训讲师", "讲师", "授课老师")),
        Field("assessment", "考核情况"),
    ),
)

DRILL = Register(
    key="drill", sheet="应急演练记录", core=False, label="演练", sheet_aliases=("演练记录", "应急演练台账", "演练台账"),
    help="每次演练一行。近 12 个月没有演练记录会被列为问题。",
    fields=(
        Field("date", "日期", D, True, aliases=("演练日期", "演练时间")),
        Field("subject", "演练科目", required=True, aliases=("演练内容", "演练名称", "演练项目"), width=24),
        Field("form", "演练形式", C, False, ("桌面推演", "实战演练"), aliases=("演练类型",),
              value_aliases=(("桌面演练", "桌面推演"), ("实战", "实战演练"), ("现场演练", "实战演练"))),
        Field("attendees", "参加人数", INT, True, aliases=("参演人数", "参加演练人数", "人数")),
        Field("evaluation", "评估结论", width=20),
        Field("improvements", "改进措施", width=24),
    ),
)

QUIZ = Register(
    key="quiz", sheet="答题确认记录", core=False, label="答题", sheet_aliases=("应知应会答题记录", "答题记录"),
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
# Columns real registers carry that hold nothing to read: the row counter and photos. Never 隐患编号.
IGNORED_HEADERS = ("序号", "编号序号", "隐患图片", "图片", "照片", "整改前照片", "整改后照片", "现场照片", "隐患照片", "整改照片", "操作",
                   "整改图片")  # [ERC] 台账模板

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
