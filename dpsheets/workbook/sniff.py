"""Recognising a file before reading it, so that a bad file gets one clear message.

A ``PK`` signature is a zip (an .xlsx if it has a workbook part); ``D0CF11E0`` is an
old .xls or an encrypted workbook (msoffcrypto tells which). Office/WPS lock files,
empty, truncated and oversized files are refused here with a Chinese message.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from dpsheets.errors import DpsheetsError
from dpsheets.fsutil import TEMP_PREFIX

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
LOCK_PREFIXES = ("~$", ".~lock", ".~", TEMP_PREFIX)  # the last: our own outputs being written
TEMP_SUFFIXES = (".tmp", ".crdownload", ".part")
MAX_UNCOMPRESSED_RATIO = 200  # a zip that inflates beyond this is refused as a zip bomb


def is_temp_or_lock(path: Path) -> bool:
    """Office/WPS lock files and half-written temp files, which must never be read."""
    name = path.name
    return name.startswith(LOCK_PREFIXES) or name.lower().endswith(TEMP_SUFFIXES)


def sniff(path: Path, max_file_mb: int = 50) -> str:
    """Raise :class:`DpsheetsError` unless *path* looks like a readable workbook; "xlsx" or "xls"."""
    p = str(path)
    if is_temp_or_lock(path):
        raise DpsheetsError("file.lock", "这是 Excel/WPS 打开文件时生成的临时锁文件，不是台账。请关闭 Excel 后提交原文件。", path=p)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
    except FileNotFoundError as exc:
        raise DpsheetsError("file.missing", "文件不存在，请检查文件名和路径。", path=p) from exc
    except IsADirectoryError as exc:
        raise DpsheetsError("file.directory", "这是一个文件夹，不是 Excel 文件。", path=p) from exc
    except OSError as exc:
        raise DpsheetsError("file.unreadable", f"文件无法打开（{exc.strerror}）。请确认文件没有被其他程序占用。", path=p) from exc
    if size == 0:
        raise DpsheetsError("file.empty", "文件是空的（0 字节），可能复制或下载没有完成。请重新保存后提交。", path=p)
    if size > max_file_mb * 1024 * 1024:
        raise DpsheetsError("file.too-large", f"文件大小 {size / 1048576:.0f} MB，超过上限 {max_file_mb} MB。台账一般不超过几 MB，请删除图片等无关内容后再提交。", path=p)
    if head.startswith(OLE_MAGIC):
        _refuse_ole(path)
        return "xls"  # python-calamine reads genuine Excel 97-2003 files
    if not head.startswith(ZIP_MAGIC):
        raise DpsheetsError("file.not-xlsx", "这不是 Excel 工作簿（.xlsx）文件。请在 Excel/WPS 中“另存为”Excel 工作簿（*.xlsx）后提交。", path=p)
    _check_zip(path)
    return "xlsx"


def _refuse_ole(path: Path) -> None:
    """An OLE file is an encrypted workbook (refused), an .xls (read) or something else (refused)."""
    import msoffcrypto

    try:
        with path.open("rb") as f:
            office = msoffcrypto.OfficeFile(f)
            encrypted = office.is_encrypted()
    except Exception:  # noqa: BLE001 - any parser failure means "not a usable OLE file"
        raise DpsheetsError("file.xls", "这是旧版 Office 文件，但无法作为 Excel 97-2003（.xls）读取。请在 Excel/WPS 中“另存为”"
                            "Excel 工作簿（*.xlsx）后提交。", path=str(path)) from None
    if encrypted:
        raise DpsheetsError("file.encrypted", "工作簿设置了打开密码，无法读取。请在 Excel 中“文件→信息→保护工作簿→用密码进行加密”清除密码后提交。", path=str(path))


def _check_zip(path: Path) -> None:
    p = str(path)
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                kind = "Word 文档" if "word/document.xml" in names else "压缩包"
                raise DpsheetsError("file.not-xlsx", f"这是{kind}，不是 Excel 工作簿。请提交用标准模板填写的 .xlsx 台账。", path=p)
            bomb = _declares_entities(z, infos)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DpsheetsError("file.truncated", "文件已损坏或不完整（可能复制、下载或发送时中断）。请用 Excel 打开确认后重新保存、重新提交。", path=p) from exc
    if bomb:
        raise DpsheetsError("file.bomb", "文件中含有 XML 实体声明（DTD），Excel 保存的台账不会有这种内容，疑似恶意构造，已拒绝读取。请用 Excel 重新保存后提交。",
                            path=p)
    compressed = max(1, sum(i.compress_size for i in infos))
    expanded = sum(i.file_size for i in infos)
    if expanded > 2_000_000_000 or expanded / compressed > MAX_UNCOMPRESSED_RATIO and expanded > 100_000_000:
        raise DpsheetsError("file.bomb", "文件解压后异常巨大，疑似恶意构造的文件，已拒绝读取。请提交正常保存的台账。", path=p)


def _declares_entities(z: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> bool:
    """True when an XML part starts with a DTD: the carrier of entity-expansion bombs."""
    for info in infos:
        if not info.filename.endswith((".xml", ".rels")):
            continue
        try:
            with z.open(info) as part:
                head = part.read(1024)
        except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError):
            return False  # the reader reports the damage
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            return True
    return False
