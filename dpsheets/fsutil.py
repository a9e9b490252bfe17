"""Writing files so that a crash never leaves a half-written output under the real name."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dpsheets.errors import DpsheetsError

TEMP_PREFIX = ".dpsheets-"  # outputs being written (atomic_path); what a crash leaves is removed at restart


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _current_umask()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside *target*; on success it is renamed onto *target*.

    The temporary name starts with :data:`TEMP_PREFIX` (so watchers and listings can skip it, and the
    county's recovery can remove what a ``kill -9`` left) and keeps the target's suffix (so libraries
    that look at it, like openpyxl, are content).
    """
    import tempfile

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=target.suffix, dir=target.parent, prefix=TEMP_PREFIX)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes 0600; outputs are for the county's other users too
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomic(target: Path, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


# errno values that say "this machine or folder cannot take the write", never "this file is bad"
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY = {errno.EROFS}
_DENIED = {errno.EACCES, errno.EPERM}
_UNREACHABLE = {errno.EIO, errno.ENOTCONN, getattr(errno, "ESTALE", errno.EIO), getattr(errno, "EHOSTDOWN", errno.EIO),
                getattr(errno, "EHOSTUNREACH", errno.EIO), errno.ETIMEDOUT}


def environment_error(exc: BaseException, *, archive: Path | str | None = None, own_file: Path | None = None,
                      path: Path | str | None = None) -> DpsheetsError | None:
    """A Chinese message naming the path when *exc* is the machine's fault (disk full, folder not
    writable, share or archive unreachable); None when it may be the file's own problem.

    *own_file* is the file being processed: an error about that very file is the file's problem.
    *path* is what was being written, named when the error itself names nothing (a full disk fails
    the ``write``, which knows no file name); *archive* names the archive in its database's errors.
    """
    if isinstance(exc, DpsheetsError):
        return exc if exc.code.startswith("env.") else None
    if type(exc).__module__.startswith("sqlalchemy"):  # the archive's database (SQLite or PostgreSQL)
        import sqlalchemy as sa

        if isinstance(exc, sa.exc.DBAPIError) and archive is not None:
            from dpsheets.county.database import explain

            return explain(exc, str(archive))
        return None
    sqlite3 = sys.modules.get("sqlite3")  # an sqlite3 error can only come once sqlite3 is loaded
    if sqlite3 is not None and isinstance(exc, sqlite3.Error) and archive is not None:
        text = str(exc).lower()
        if "full" in text:
            return DpsheetsError("env.disk-full", f"磁盘已满，档案库 {archive} 无法写入。请清理磁盘空间后重新运行；文件仍在“处理中”，下次运行会继续处理。", exit_code=2)
        if "locked" in text or "busy" in text:
            return DpsheetsError("env.archive-busy", f"档案库 {archive} 正被其他程序长时间占用。请稍后重试，或检查是否有其他 dpsheets 在使用它。", exit_code=2)
        return DpsheetsError("env.archive-unreachable", f"档案库 {archive} 无法打开或写入（{exc}）。请确认文件所在的磁盘或网络共享可以访问、有写入权限后重新运行。", exit_code=2)
    if not isinstance(exc, OSError) or exc.errno is None:
        return None
    if own_file is not None and exc.filename and Path(exc.filename) == Path(own_file) and exc.errno not in _DISK_FULL | _READ_ONLY:
        return None
    where = exc.filename or (str(path) if path else "") or "输出文件"
    if exc.errno in _DISK_FULL:
        return DpsheetsError("env.disk-full", f"磁盘已满，无法写入 {where}。请清理磁盘空间后重新运行；未处理完的文件仍在“处理中”，下次运行会继续处理。", exit_code=2)
    if exc.errno in _READ_ONLY:
        return DpsheetsError("env.read-only", f"{where} 所在的磁盘是只读的，无法写入。请换到可写的文件夹，或请管理员开放写入。", exit_code=2)
    if exc.errno in _DENIED:
        return DpsheetsError("env.denied", f"没有写入 {where} 的权限。请检查该文件夹的权限（或请管理员开放写入）后重新运行。", exit_code=2)
    if exc.errno in _UNREACHABLE:
        return DpsheetsError("env.unreachable", f"{where} 暂时无法访问（{exc.strerror}），可能是网络共享断开。请确认共享文件夹可以打开后重新运行。", exit_code=2)
    return None


@contextmanager
def without_modules(*names: str) -> Iterator[None]:
    """Import a library as if the optional modules *names* were not installed (those not loaded yet):
    openpyxl imports numpy only to recognise numpy scalars, which dpsheets never writes, and that import
    was most of the time a ``dpsheets check`` spent starting. They stay importable afterwards."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
