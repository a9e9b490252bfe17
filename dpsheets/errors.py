"""The one project exception: a condition that stops a file (or a command) entirely.

Everything that is merely wrong *inside* a workbook is a :class:`~dpsheets.rules.problems.Problem`.
A ``DpsheetsError`` carries a stable code, declared once in :data:`FATAL` with its title and exit
code, and a Chinese message for the user that names the file and the fix; the CLI prints the message
and exits with :attr:`exit_code`. :data:`EXIT_CODES` declares every exit code of the ``dpsheets``
command (its ``--help``, the README and ``docs/字段说明.md`` show them).
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK, EXIT_DATA_ERRORS, EXIT_FATAL, EXIT_LOCKED, EXIT_CANCELLED = 0, 1, 2, 3, 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "完成；检查的台账没有数据错误",
    EXIT_DATA_ERRORS: "检查的台账中有数据错误（check、docs）；有文件被退回（ingest）",
    EXIT_FATAL: "有文件无法读取，或命令无法完成（参数、配置、档案库、汇总表有误；原因见提示）",
    EXIT_LOCKED: "另一个 dpsheets 正在处理同一个文件夹（watch、ingest）",
    EXIT_CANCELLED: "被用户中止（Ctrl-C）",
}


@dataclass(frozen=True)
class FatalType:
    """A code a :class:`DpsheetsError` is raised with: its title and exit code."""

    code: str
    title: str
    exit_code: int = EXIT_FATAL


def _types(*rows: tuple[str, str] | tuple[str, str, int]) -> dict[str, FatalType]:
    return {row[0]: FatalType(*row) for row in rows}


# Every code a DpsheetsError is raised with (tests/test_errors.py checks the source against this table).
FATAL: dict[str, FatalType] = _types(
    # the file itself
    ("file.missing", "文件不存在"),
    ("file.directory", "是文件夹不是文件"),
    ("file.unreadable", "文件无法打开"),
    ("file.lock", "Excel/WPS 临时锁文件"),
    ("file.empty", "空文件"),
    ("file.too-large", "文件过大"),
    ("file.not-xlsx", "不是 Excel 工作簿"),
    ("file.xls", "旧版 .xls 文件"),
    ("file.encrypted", "设置了打开密码"),
    ("file.truncated", "文件不完整"),
    ("file.corrupt", "工作簿已损坏"),
    ("file.bomb", "疑似恶意构造的文件"),
    ("file.unexpected", "读取时发生意外错误"),
    ("file.timeout", "读取超时"),
    ("file.memory", "读取时内存超过上限"),
    ("file.crashed", "读取进程异常退出"),
    # the workbook as a whole
    ("workbook.not-standard", "不是标准台账"),
    ("workbook.wrong-template", "其他系统的模板"),
    ("workbook.incompatible-template", "模板版本不兼容"),
    ("workbook.too-many-rows", "行数超过上限"),
    ("workbook.too-large-sheet", "表格范围过大（远处的单元格）"),
    ("workbook.too-large-merge", "合并单元格范围过大"),
    # command input
    ("input.none", "没有找到台账文件"),
    ("config.missing", "找不到配置文件"),
    ("config.invalid", "配置文件有误"),
    ("config.unknown-key", "未知的配置项"),
    # the archive
    ("archive.missing", "找不到档案库"),
    ("archive.newer", "档案库版本较新"),
    ("archive.unknown", "档案中没有该企业"),
    ("archive.no-enterprise", "企业信息为空，无法建档"),
    ("archive.no-uscc", "没有统一社会信用代码，无法建档"),
    ("archive.invalid-uscc", "统一社会信用代码有误，无法建档"),
    ("archive.bad-url", "档案数据库地址无法识别"),
    ("archive.damaged", "档案库完整性检查未通过"),
    ("watch.locked", "文件夹正被另一个 dpsheets 处理", EXIT_LOCKED),
    # the machine, not the file: the file waits in 处理中 and is finished at the next run
    ("env.disk-full", "磁盘已满"),
    ("env.read-only", "磁盘只读"),
    ("env.denied", "文件夹没有写入权限"),
    ("env.unreachable", "文件夹或网络共享无法访问"),
    ("env.worker", "读取进程无法启动"),
    ("env.archive-busy", "档案库被长时间占用"),
    ("env.archive-unreachable", "档案库无法打开"),
    ("env.archive-no-rights", "档案数据库用户没有权限"),
    ("env.archive-login", "无法登录档案数据库"),
    ("env.archive-no-database", "档案数据库不存在"),
    ("env.archive-error", "档案数据库出错"),
    # county staff accounts (dpsheets user, dpsheets serve)
    ("user.bad-name", "用户名不合规"),
    ("user.weak-password", "密码太短"),
    ("user.exists", "用户已存在"),
    ("user.unknown", "没有该用户"),
    ("user.scope", "没有指定账号范围"),
    # roll-ups
    ("roster.unreadable", "企业名单无法读取"),
    ("roster.no-uscc", "企业名单缺少代码列"),
    ("roster.invalid-deadline", "企业名单的报送期限有误"),
    ("rollup.unreadable", "汇总表无法读取"),
    ("rollup.not-summary", "不是 dpsheets 汇总表"),
    ("rollup.damaged", "汇总表被改动或损坏"),
    ("rollup.mixed-dates", "各汇总表统计日期不一致"),
    ("rollup.mixed-inputs", "汇总表和档案库不能同时使用"),
    ("rollup.where-summaries", "汇总表不能按范围筛选"),
    # web service accounts
    ("user.scope", "未指定账号范围"),
    ("user.weak-password", "密码太短"),
    ("user.bad-name", "用户名不合规"),
    ("user.exists", "用户已存在"),
    ("user.unknown", "没有该用户"),
)


@dataclass(frozen=True)
class NoticeType:
    """A condition of the machine the user is told of once per run."""

    code: str
    title: str
    message: str  # Chinese, for the user: what happened, what was done instead, what to install


# Conditions of the machine that stop nothing but that the user must be told of, once per run (in the
# output of ``dpsheets docs``/``demo`` and in their JSON). Declared once here; docs/字段说明.md lists them.
NOTICES: dict[str, NoticeType] = {n.code: n for n in (
    NoticeType("font.bundled", "本机未安装中文字体，已用自带字体",
               "本机未安装中文字体：风险分布图等图中的文字已改用随 dpsheets 安装的思源黑体（Noto Sans SC）印出。"
               "建议安装中文字体：Linux 运行 apt-get install fonts-noto-cjk（思源黑体），Windows 安装“微软雅黑”或思源黑体。"),
    NoticeType("font.missing", "没有可用的中文字体",
               "本机没有可用的中文字体，也未找到随 dpsheets 安装的字体包（pylopdf-fonts-zh-cn），图中的中文可能无法显示。"
               "请安装中文字体（Linux：apt-get install fonts-noto-cjk，即思源黑体），或重新安装 dpsheets。"),
)}


class DpsheetsError(Exception):
    """A fatal condition, with a Chinese message that names the file and the fix.

    *code* is declared in :data:`FATAL`, which also gives the exit code unless *exit_code* says otherwise.
    """

    def __init__(self, code: str, message: str, *, path: str | None = None, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path
        kind = FATAL.get(code)
        self.exit_code = exit_code if exit_code is not None else (kind.exit_code if kind else EXIT_FATAL)

    def __str__(self) -> str:
        return f"{self.path}：{self.message}" if self.path else self.message
