"""Configuration: risk thresholds, deadlines, limits, QR base address, roll-up rules.

Defaults follow DOMAIN.md §4–§8. A ``dpsheets.toml`` overrides any of them::

    due_soon_days = 5
    qr_base_url = "https://example.gov.cn/qy/"

    [lec]            # D = L×E×C; a level applies when D is at least its lower bound
    "重大风险" = 320.0001
    [ls]
    "重大风险" = 20

The file is validated when it is loaded, against the dataclasses below: their field types,
and the limits in each field's ``metadata`` (``min``, ``max``, ``keys``, ``descending``,
``directory``). A wrong type, a value out of range or an unknown key anywhere (also inside a
table) refuses the whole file with one Chinese message naming the file and the key, before any
work is done. A new setting is a new dataclass field; it needs no validation code of its own.
A ``choices`` limit names the values a setting may take (``[print] paper = "A4"`` or ``"A3"``).
"""

from __future__ import annotations

import sys
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from dpsheets.errors import DpsheetsError

# Lower bounds (inclusive) of each level, from the highest level down; below the last, 低风险.
# LEC: D > 320 重大, 160 < D ≤ 320 较大, 70 ≤ D ≤ 160 一般, D < 70 低. Scores are products of the
# allowed factor values, so "> 320" equals ">= 320.0001" for every score that can occur.
DEFAULT_LEC = {"重大风险": 320.0001, "较大风险": 160.0001, "一般风险": 70.0}
DEFAULT_LS = {"重大风险": 20.0, "较大风险": 9.0, "一般风险": 4.0}

LEC_L = (0.1, 0.2, 0.5, 1, 3, 6, 10)
LEC_E = (0.5, 1, 2, 3, 6, 10)
LEC_C = (1, 3, 7, 15, 40, 100)
LS_VALUES = (1, 2, 3, 4, 5)




def _alias_keys() -> tuple[str, ...]:
    from dpsheets.workbook.registers import TABLES

    return tuple(f"{r.sheet}.{f.header}" for r in TABLES for f in r.fields)


def header_aliases(config: Config) -> dict[str, dict[str, tuple[str, ...]]]:
    """The configured aliases as the reader wants them: register key → field key → headers."""
    from dpsheets.workbook.registers import TABLES

    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for r in TABLES:
        for f in r.fields:
            names = config.aliases.get(f"{r.sheet}.{f.header}")
            if names:
                out.setdefault(r.key, {})[f.key] = tuple(n.strip() for n in names if n.strip())
    return out


def setting(default: Any = MISSING, *, factory: Any = MISSING, doc: str = "", **limits: Any) -> Any:
    """A configuration field: its default and its limits (min, max, keys, descending, directory, choices)."""
    meta = {"doc": doc, **limits}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class RollupRules:
    """When an enterprise's system is *not running effectively* (差异化执法), and how severe each breach is.

    Each broken rule adds points to the enterprise's 分值 (the weights below); 重点检查企业 is ordered by it.
    The defaults put the tiers in the order a county chief inspects: not submitted or lapsed (100) before
    an open 重大隐患 without plan (50 each) or without report (40 each), before overdue hazards (by number,
    days overdue and level, at most 90), before data errors that hide the state, before missing training,
    drills and confirmations."""

    stale_days: int = setting(120, min=1, max=3660, doc="最近一次报送超过多少天算未按时报送")
    max_overdue: int = setting(0, min=0, doc="逾期隐患超过多少项")
    major_without_plan: bool = setting(True, doc="未销号的重大隐患没有治理方案")
    major_unreported: bool = setting(True, doc="未销号的重大隐患有治理方案但没有上报日期")
    months_without_training: int = setting(12, min=1, max=120, doc="多少个月没有培训")
    months_without_drill: int = setting(12, min=1, max=120, doc="多少个月没有演练")
    empty_registers: bool = setting(True, doc="清单为空")
    data_errors: bool = setting(True, doc="数据错误过多")
    max_data_errors: int = setting(5, min=0, doc="数据错误超过多少处")
    zero_hazards: bool = setting(True, doc="长期零隐患（没有发现隐患，疑似未开展排查）")
    zero_hazard_days: int = setting(90, min=1, max=3660, doc="多少天没有发现隐患算零隐患")
    unconfirmed_posts: bool = setting(True, doc="岗位近 12 个月无人答题确认")
    max_unconfirmed_posts: int = setting(0, min=0, doc="无人答题确认的岗位超过多少个")
    low_confirmation: bool = setting(True, doc="员工答题确认比例过低")
    min_confirmed_share: float = setting(0.8, min=0, max=1, doc="近 12 个月答题确认的员工至少占多少（0～1）")
    # the weights of 重点检查企业 (分值)
    weight_not_submitted: float = setting(100.0, min=0, max=10000, doc="未报送的分值")
    weight_stale: float = setting(100.0, min=0, max=10000, doc="超期未报送的分值")
    weight_major_without_plan: float = setting(50.0, min=0, max=10000, doc="每项无治理方案的重大隐患的分值")
    weight_major_unreported: float = setting(40.0, min=0, max=10000, doc="每项未上报的重大隐患的分值")
    weight_overdue_hazard: float = setting(3.0, min=0, max=10000, doc="每项逾期隐患的分值")
    weight_overdue_day: float = setting(0.1, min=0, max=100, doc="逾期隐患每逾期一天加的分值")
    major_overdue_factor: float = setting(2.0, min=1, max=100, doc="逾期的重大隐患按几倍计分")
    max_overdue_points: float = setting(90.0, min=0, max=10000, doc="逾期隐患合计最多计多少分")
    weight_data_errors: float = setting(20.0, min=0, max=10000, doc="数据错误过多的分值")
    weight_empty_registers: float = setting(30.0, min=0, max=10000, doc="清单为空的分值")
    weight_zero_hazards: float = setting(15.0, min=0, max=10000, doc="长期零隐患的分值")
    weight_no_training: float = setting(10.0, min=0, max=10000, doc="无培训记录的分值")
    weight_no_drill: float = setting(10.0, min=0, max=10000, doc="无演练记录的分值")
    weight_unconfirmed_posts: float = setting(5.0, min=0, max=10000, doc="岗位无人答题确认的分值")
    weight_low_confirmation: float = setting(5.0, min=0, max=10000, doc="答题确认比例过低的分值")


@dataclass(frozen=True)
class OfficialForm:
    """The official form of notices and reports (GB/T 9704): who issues, to whom, who to call.

    Blank values come from the workbook's 企业信息 (issuer = 企业名称, contact = 安全管理人员,
    phone = 联系电话) or, for the county report, from the roll-up (issuer = 县应急管理局)."""

    issuer: str = setting("", doc="企业文书的发文单位（落款）")  # default: 企业名称
    addressee: str = setting("", doc="重大事故隐患报告的主送机关")  # default: <county>应急管理局
    contact: str = setting("", doc="联系人")  # default: 安全管理人员
    phone: str = setting("", doc="联系电话")  # default: the enterprise's 联系电话
    number_prefix: str = setting("", doc="发文机关代字，如“宏达安”")  # before 整改〔2026〕3号
    county_issuer: str = setting("", doc="汇总报告的落款")  # default: <county>应急管理局
    county_contact: str = setting("", doc="汇总报告的联系人")
    county_phone: str = setting("", doc="汇总报告的联系电话")
    report_number: str = setting("", doc="汇总报告的文号，如“舞应急〔2026〕15号”")


PAPERS = ("A4", "A3")


@dataclass(frozen=True)
class PrintSetup:
    """Paper of the printed documents and of the workbook's wide registers."""

    # A4: 公告栏 on one A4 page, wide registers two pages wide; A3: 公告栏 on A3 with a larger map, wide registers one page wide
    paper: str = setting("A4", choices=PAPERS, doc="纸张：A4 或 A3（A3 时风险公告栏印在 A3 上、分布图更大，台账宽表一页宽）")


@dataclass(frozen=True)
class Limits:
    """What the worker process that reads a county's incoming workbooks may use (see :mod:`dpsheets.isolation`).

    A file that needs more is returned with its reason and the next file goes on. The memory cap is the
    worker's address space (``RLIMIT_AS``); Windows has none, and there only the timeout applies."""

    memory_mb: int = setting(1024, min=128, max=1 << 20, doc="读取一个台账最多用多少 MB 内存")  # the worker alone is ~60 MB
    timeout_s: float = setting(60.0, min=0.1, max=86400, doc="读取一个台账最多用多少秒")


@dataclass(frozen=True)
class Config:
    """All settings, each with its default and its limits (a ``dpsheets.toml`` overrides any of them)."""

    lec: dict[str, float] = setting(factory=lambda: dict(DEFAULT_LEC), keys=tuple(DEFAULT_LEC), min=0,
                                    descending=True, doc="LEC 法各等级的下限")
    ls: dict[str, float] = setting(factory=lambda: dict(DEFAULT_LS), keys=tuple(DEFAULT_LS), min=0,
                                   descending=True, doc="LS 法各等级的下限")
    due_soon_days: int = setting(3, min=0, max=365, doc="临期提醒天数")
    max_rows: int = setting(20000, min=1, doc="每张表最多行数")  # more rows: the workbook is refused as too large
    max_file_mb: int = setting(50, min=1, doc="文件最大 MB")
    qr_base_url: str = setting("", doc="二维码网址前缀")
    # the archive's QR secret (read by ``dpsheets docs --archive`` and the watcher); without it QR codes hold text
    qr_secret: str = setting("", doc="二维码令牌密钥（一般不必填写：由档案库提供）")
    templates_dir: str = setting("", directory=True, doc="县里自己的 Word 模板文件夹")  # default: the shipped ones
    archive: str = setting("", doc="档案库：SQLite 文件或 postgresql://用户@服务器/数据库")  # DPSHEETS_ARCHIVE overrides
    limits: Limits = setting(factory=Limits, doc="收件时读取台账的内存和时间上限")
    rules: RollupRules = setting(factory=RollupRules, doc="未有效运行的判定")
    official: OfficialForm = setting(factory=OfficialForm, doc="文书的发文单位、主送机关、联系人和电话")
    print: PrintSetup = setting(factory=PrintSetup, doc="打印纸张")
    # Local header aliases, "表名.标准列名" = ["本地列名", …] (issue 9): [aliases] "隐患排查治理清单.治理期限" = ["限改日期"]
    aliases: dict[str, tuple[str, ...]] = setting(factory=dict, keys=_alias_keys(), aliases=True, doc="本地列名别名")


def load_config(path: str | Path | None = None) -> Config:
    """Defaults, overridden by the TOML file at *path* (or ./dpsheets.toml when present)."""
    if path is None:
        default = Path("dpsheets.toml")
        if not default.is_file():
            return Config()
        path = default
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DpsheetsError("config.missing", "找不到配置文件。", path=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DpsheetsError("config.invalid", f"配置文件格式有误：{exc}", path=str(path)) from exc
    return config_from_dict(data, source=str(path))


def config_from_dict(data: dict[str, Any], source: str = "配置") -> Config:
    """A Config from parsed TOML, validated against the dataclass declarations (see the module doc)."""
    return _build(Config, data, (), source)


# --- validation, driven by the dataclass declarations ----------------------------------------------

_TYPE_NAMES = {bool: "“true”或“false”", int: "整数", float: "数字", str: "文字（加英文双引号）"}


def _where(path: tuple[str, ...]) -> str:
    if len(path) == 1:
        return f"配置项 {path[0]}"
    return f"[{'.'.join(path[:-1])}] 中的 {path[-1]}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"文字 \"{value}\""
    if isinstance(value, dict):
        return "一个表"
    if isinstance(value, list):
        return "一个列表"
    return str(value)


def _fail(path: tuple[str, ...], message: str, source: str, code: str = "config.invalid") -> DpsheetsError:
    return DpsheetsError(code, f"{_where(path)}{message}", path=source)


def _build(cls: type, data: Any, path: tuple[str, ...], source: str) -> Any:
    if not isinstance(data, dict):
        raise _fail(path, f" 应为一个表（写成 [{'.'.join(path)}] 一节），而不是 {_shown(data)}。", source)
    declared = {f.name: f for f in fields(cls)}
    unknown = [k for k in data if k not in declared]
    if unknown:
        import difflib

        where = f"[{'.'.join(path)}] 中的" if path else ""
        close = difflib.get_close_matches(unknown[0], declared, n=1)
        guess = f"是不是 {close[0]}？" if close else ""
        raise DpsheetsError("config.unknown-key", f"{where}配置项 {'、'.join(unknown)} 无法识别。{guess}"
                            f"可用的配置项：{'、'.join(declared)}。", path=source)
    hints = typing.get_type_hints(cls)
    defaults = cls()
    values = {name: _value(hints[name], data[name], declared[name].metadata, (*path, name), source,
                           getattr(defaults, name)) for name in declared if name in data}
    for name, value in values.items():
        if isinstance(value, dict) and isinstance(getattr(defaults, name), dict):
            values[name] = {**getattr(defaults, name), **value}  # a table of levels overrides some of them
    for name, value in values.items():
        _check_whole(value, declared[name].metadata, (*path, name), source)
    return cls(**{**{f.name: getattr(defaults, f.name) for f in fields(cls)}, **values})


def _value(hint: Any, value: Any, meta: Any, path: tuple[str, ...], source: str, default: Any = None) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if is_dataclass(hint):
        return _build(hint, value, path, source)  # type: ignore[arg-type]
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(path, f" 应为一个表（写成 [{'.'.join(path)}] 一节），而不是 {_shown(value)}。", source)
        allowed = meta.get("keys")
        wrong = [k for k in value if allowed is not None and k not in allowed]
        if wrong:
            raise DpsheetsError("config.unknown-key", f"[{'.'.join(path)}] 中的 {'、'.join(wrong)} 无法识别，"
                                f"可以设置的只有：{'、'.join(allowed)}。", path=source)
        known = default if isinstance(default, dict) else {}
        return {str(k): _value(args[1], v, meta, (*path, str(k)), source, known.get(k)) for k, v in value.items()}
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise _fail(path, f" 应为一个列表，如 [\"甲\", \"乙\"]，而不是 {_shown(value)}。", source)
        item = args[0] if args else Any
        items = [_value(item, v, meta, (*path[:-1], f"{path[-1]}[{i + 1}]"), source) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    return _scalar(hint, value, meta, path, source, default)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)


def _scalar(hint: Any, value: Any, meta: Any, path: tuple[str, ...], source: str, default: Any) -> Any:
    if hint is Any:
        return value
    ok = (isinstance(value, bool) if hint is bool else
          isinstance(value, int) and not isinstance(value, bool) if hint is int else
          isinstance(value, (int, float)) and not isinstance(value, bool) if hint is float else
          isinstance(value, hint))
    if not ok:
        example = _toml(default) if isinstance(default, hint) and default != "" else {str: '"文字"'}.get(hint, "")
        hint_text = _TYPE_NAMES.get(hint, getattr(hint, "__name__", str(hint)))
        key = path[-1] if path[-1].isascii() else f'"{path[-1]}"'
        fix = f"，如 {key} = {example}" if example else ""
        unquote = "（数字和 true/false 不加引号）" if isinstance(value, str) and hint is not str else ""
        raise _fail(path, f" 应为{hint_text}{fix}{unquote}，而不是 {_shown(value)}。", source)
    if hint is float:
        value = float(value)
    if hint in (int, float):
        low, high = meta.get("min"), meta.get("max")
        if low is not None and value < low or high is not None and value > high:
            bounds = (f"不小于 {low}" if high is None else f"不大于 {high}" if low is None else f"在 {low}～{high} 之间")
            raise _fail(path, f" 应{bounds}，而不是 {value}。", source)
    choices = meta.get("choices")
    if choices and value not in choices:
        raise _fail(path, f" 应为{'或'.join(f'“{c}”' for c in choices)}，而不是 {_shown(value)}。", source)
    if hint is str and meta.get("directory") and value and not Path(value).is_dir():
        raise _fail(path, f" 指向的文件夹 {value} 不存在。请写已有文件夹的完整路径，或删去这一行以用自带的模板。", source)
    return value


def _check_whole(value: Any, meta: Any, path: tuple[str, ...], source: str) -> None:
    if meta.get("aliases") and isinstance(value, dict):
        _check_aliases(value, path, source)
    if meta.get("descending") and isinstance(value, dict):
        bounds = list(value.items())
        for (hi_key, hi), (lo_key, lo) in zip(bounds, bounds[1:]):  # noqa: B905 - pairs
            if not hi > lo:
                raise _fail(path, f" 的下限应逐级降低：“{hi_key}”（{hi}）应大于“{lo_key}”（{lo}）。", source)


def _check_aliases(value: dict[str, tuple[str, ...]], path: tuple[str, ...], source: str) -> None:
    """A local alias names one column: not blank, not a standard column name (an exact standard header is
    always read as itself), not given to two columns of one register."""
    from dpsheets.workbook.normalize import header_key
    from dpsheets.workbook.registers import TABLES

    standard = {r.sheet: {header_key(f.header): f.header for f in r.fields} for r in TABLES}
    seen: dict[tuple[str, str], str] = {}
    for key, names in value.items():
        sheet, _, column = key.partition(".")
        for name in names:
            folded = header_key(name)
            if not folded:
                raise _fail((*path, key), " 的别名有一个是空的，请删除。", source)
            if folded in standard.get(sheet, {}):
                raise _fail((*path, key), f" 的别名“{name}”已是标准列名“{standard[sheet][folded]}”，标准列名总是按它自己读取，"
                                          "不能作为别名。", source)
            other = seen.setdefault((sheet, folded), column)
            if other != column:
                raise _fail((*path, key), f" 的别名“{name}”也是“{sheet}.{other}”的别名，一个列名只能对应一个标准列。", source)
