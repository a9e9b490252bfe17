"""Finding a Simplified Chinese font file for the charts and the risk map, never trusting a stale cache.

matplotlib builds its font list once and caches it: a CJK font installed after the first run
stays invisible to it, and the charts then print English or empty boxes forever. So the font
*file* is located directly — fontconfig first (``fc-list :lang=zh-cn``), then the places where
Windows, macOS and Debian put their Chinese fonts — and handed to matplotlib with
``FontProperties(fname=...)``. Simplified Chinese faces come first; the Japanese face of a
Noto CJK collection is never taken (it draws some characters in Japanese shapes). When the
machine has no Chinese font at all, the Noto Sans SC shipped by the ``pylopdf-fonts-zh-cn``
package is used and :func:`notice_code` names the notice the user is given once, in Chinese.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from dpsheets.errors import NOTICES

log = logging.getLogger(__name__)

# Family names in order of preference: Simplified Chinese sans faces, then serif faces.
PREFERRED = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC", "Microsoft YaHei",
             "微软雅黑", "SimHei", "黑体", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "Noto Serif CJK SC",
             "Source Han Serif SC", "Noto Serif SC", "SimSun", "宋体", "FangSong", "仿宋")
# Where the installers put them when fontconfig cannot be asked (Windows, macOS, Debian/Ubuntu, Fedora).
KNOWN_FILES = (
    r"C:\Windows\Fonts\msyh.ttc", r"C:\Windows\Fonts\msyh.ttf", r"C:\Windows\Fonts\simhei.ttf",
    r"C:\Windows\Fonts\simsun.ttc", r"C:\Windows\Fonts\simfang.ttf",
    "/System/Library/Fonts/PingFang.ttc", "/System/Library/Fonts/STHeiti Light.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc", "/Library/Fonts/Arial Unicode.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
NOT_SIMPLIFIED = (" JP", " KR", " TC", " HK", "Japanese", "Korean")
NO_SYSTEM_FONT = NOTICES["font.bundled"].message


@dataclass(frozen=True)
class CjkFont:
    path: str
    index: int  # face in a .ttc collection
    family: str
    bundled: bool = False

    def properties(self, size: float | None = None) -> Any:
        """matplotlib ``FontProperties`` for this face (a collection's face chosen by index)."""
        from matplotlib import font_manager

        fname: Any = self.path
        if self.index:
            fname = font_manager.FontPath(self.path, self.index)
        return font_manager.FontProperties(fname=fname, size=size)


def _face_family(path: str, index: int) -> str | None:
    """The family name of face *index* of the font file (FreeType, through Pillow: no matplotlib import for
    the documents), or None if it cannot be opened."""
    try:
        from PIL import ImageFont

        return str(ImageFont.truetype(path, 12, index=index).getname()[0])
    except Exception:  # noqa: BLE001 - a broken or unreadable font file is simply not a candidate
        return None


def _rank(family: str) -> int:
    for i, name in enumerate(PREFERRED):
        if family.lower() == name.lower():
            return i
    return len(PREFERRED)


def _simplified(family: str) -> bool:
    return not any(tag.lower() in family.lower() for tag in NOT_SIMPLIFIED)


def _fontconfig() -> list[tuple[str, int, str]]:
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh-cn", "-f", "%{file}|%{index}|%{family[0]}|%{style[0]}\n"],
                             capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 4 and parts[1].isdigit() and parts[3] in ("Regular", "Book", "Normal", "常规", "Medium", ""):
            found.append((parts[0], int(parts[1]), parts[2]))
    return found


def _known_files() -> list[tuple[str, int, str]]:
    found = []
    for path in KNOWN_FILES:
        if not Path(path).is_file():
            continue
        for index in range(12):
            family = _face_family(path, index)
            if family is None:
                break
            found.append((path, index, family))
    return found


def _face_index_supported() -> bool:
    from matplotlib import font_manager

    return hasattr(font_manager, "FontPath")


def _bundled() -> CjkFont | None:
    try:
        import pylopdf_fonts_zh_cn as bundled
    except ImportError:
        return None
    path = bundled.sans_path()
    return CjkFont(str(path), 0, "Noto Sans SC", bundled=True) if path.is_file() else None


@lru_cache(maxsize=2)
def find_cjk_font(any_face: bool = True) -> CjkFont | None:
    """The best Simplified Chinese face on this machine, else the bundled Noto Sans SC, else None.

    *any_face* False: only the first face of a collection (what an old matplotlib can open)."""
    candidates = [c for c in (_fontconfig() or _known_files()) if _simplified(c[2]) and _rank(c[2]) < len(PREFERRED)]
    if not any_face:
        candidates = [c for c in candidates if c[1] == 0]
    for path, index, family in sorted(candidates, key=lambda c: (_rank(c[2]), c[0], c[1])):
        if _face_family(path, index) is not None:
            return CjkFont(path, index, family)
    font = _bundled()
    if font is not None:
        log.warning(NO_SYSTEM_FONT)
    return font


def notice_code() -> str | None:
    """The notice (:data:`dpsheets.errors.NOTICES`) to give when no system font was found: ``font.bundled``
    (the bundled face is used) or ``font.missing`` (none at all); None when a system font was found."""
    font = find_cjk_font()
    if font is None:
        return "font.missing"
    return "font.bundled" if font.bundled else None


def notice() -> str | None:
    """The Chinese note to show once when no system font was found (None when one was)."""
    code = notice_code()
    return NOTICES[code].message if code else None


def font_properties(size: float | None = None) -> Any:
    """``FontProperties`` of the Chinese face for matplotlib text, or None when there is no such face."""
    font = find_cjk_font() if _face_index_supported() else find_cjk_font(False)  # one search when both agree
    return font.properties(size) if font else None


SERIF_NAMES = ("仿宋", "宋体", "FangSong", "SimSun", "仿宋_GB2312", "楷体", "KaiTi")
SANS_NAMES = ("黑体", "SimHei", "微软雅黑", "Microsoft YaHei")


def bundled_office_fonts() -> dict[str, Path]:
    """The Simplified Chinese faces shipped with dpsheets (pylopdf-fonts-zh-cn): family → file."""
    try:
        import pylopdf_fonts_zh_cn as bundled
    except ImportError:
        return {}
    files = {"Noto Sans SC": bundled.sans_path(), "Noto Serif SC": bundled.serif_path()}
    return {family: path for family, path in files.items() if path.is_file()}


@lru_cache(maxsize=1)
def office_substitutes() -> dict[str, str]:
    """Word font name → a Simplified Chinese family, for the fonts the templates name that are missing here.

    Given to LibreOffice as its font replacement table when it converts to PDF. The single-face
    Noto Sans SC / Noto Serif SC shipped with dpsheets come first (the PDF then embeds a face that is
    Simplified Chinese by name, not the shared glyphs of a CJK collection that LibreOffice labels
    "CJKjp"); else the installed Simplified Chinese family."""
    installed = {family for _, _, family in _fontconfig()}
    bundled = bundled_office_fonts()
    sans = "Noto Sans SC" if "Noto Sans SC" in bundled else next(
        (f for f in PREFERRED if f in installed and "Serif" not in f), None)
    serif = "Noto Serif SC" if "Noto Serif SC" in bundled else next(
        (f for f in ("Noto Serif CJK SC", "Source Han Serif SC", "Noto Serif SC") if f in installed), sans)
    out: dict[str, str] = {}
    for names, family in ((SERIF_NAMES, serif), (SANS_NAMES, sans)):
        for name in names:
            if family and name not in installed:
                out[name] = family
    return out
