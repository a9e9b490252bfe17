"""Finding the Chinese font: fontconfig, the known install paths, the bundled face and the Chinese notices.

The search is pointed at temporary font directories (a private fontconfig configuration, a PATH
without or with a broken ``fc-list``, the list of known install paths) — the real fontconfig,
the real font files and the real matplotlib are used throughout."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from dpsheets.documents import fonts

pylopdf = pytest.importorskip("pylopdf_fonts_zh_cn")
BUNDLED = Path(pylopdf.sans_path())
HAS_FC_LIST = os.path.isfile("/usr/bin/fc-list")


@pytest.fixture(autouse=True)
def _fresh_search():
    fonts.find_cjk_font.cache_clear()
    fonts.office_substitutes.cache_clear()
    yield
    fonts.find_cjk_font.cache_clear()
    fonts.office_substitutes.cache_clear()


def _fontconfig_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *files: Path) -> Path:
    """A fontconfig configuration whose only font directory holds *files* (symlinked)."""
    fontdir = tmp_path / "fonts"
    fontdir.mkdir()
    for f in files:
        (fontdir / f.name).symlink_to(f)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?>\n<fontconfig><dir>{fontdir}</dir>'
                    f'<cachedir>{tmp_path / "cache"}</cachedir></fontconfig>\n', encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    return fontdir


def _no_fc_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))


@pytest.mark.skipif(not HAS_FC_LIST, reason="fontconfig (fc-list) not installed")
def test_fontconfig_face_is_found_and_draws(tmp_path, monkeypatch):
    fontdir = _fontconfig_over(tmp_path, monkeypatch, BUNDLED)
    font = fonts.find_cjk_font()
    assert font is not None
    assert font.path == str(fontdir / BUNDLED.name)
    assert (font.index, font.family, font.bundled) == (0, "Noto Sans SC", False)
    assert fonts.notice() is None
    props = fonts.font_properties(14)
    assert props.get_file() == font.path and props.get_size() == 14

    # the face really draws Chinese: matplotlib renders a glyph from it into a PNG
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    fig.text(0.1, 0.5, "隐患", fontproperties=props)
    out = tmp_path / "t.png"
    fig.savefig(out)
    plt.close(fig)
    assert out.stat().st_size > 0


@pytest.mark.skipif(not HAS_FC_LIST, reason="fontconfig (fc-list) not installed")
def test_office_substitutes_map_missing_word_fonts_to_installed_face(tmp_path, monkeypatch):
    _fontconfig_over(tmp_path, monkeypatch, BUNDLED)
    subs = fonts.office_substitutes()
    # every Word font the templates name is missing here: each goes to a Simplified Chinese face,
    # the serif names to the serif face and the sans names to the sans face (the bundled ones first)
    for name in fonts.SERIF_NAMES:
        assert subs[name] in ("Noto Serif SC", "Noto Sans SC")
    for name in fonts.SANS_NAMES:
        assert subs[name] == "Noto Sans SC"


def test_without_fontconfig_the_known_paths_are_searched(tmp_path, monkeypatch):
    _no_fc_list(tmp_path, monkeypatch)
    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"not a font at all")
    absent = tmp_path / "missing.ttf"  # listed but not on this machine
    monkeypatch.setattr(fonts, "KNOWN_FILES", (str(absent), str(broken), str(BUNDLED)))
    font = fonts.find_cjk_font()
    assert font is not None
    assert (font.path, font.index, font.family, font.bundled) == (str(BUNDLED), 0, "Noto Sans SC", False)
    # without fontconfig nothing is known installed: every Word font goes to a shipped SC face
    assert set(fonts.office_substitutes().values()) <= {"Noto Sans SC", "Noto Serif SC"}


def test_a_collection_face_is_chosen_by_index(tmp_path, monkeypatch):
    collection = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    if not collection.is_file():
        pytest.skip("fonts-noto-cjk not installed")
    _no_fc_list(tmp_path, monkeypatch)
    monkeypatch.setattr(fonts, "KNOWN_FILES", (str(collection),))
    font = fonts.find_cjk_font()
    assert font is not None and font.family == "Noto Sans CJK SC"
    assert font.index > 0  # the JP face comes first in the collection and is never taken
    props = font.properties(10)
    assert fonts._face_family(str(collection), font.index) == "Noto Sans CJK SC"
    assert props.get_size() == 10


def test_broken_fc_list_falls_back_to_the_bundled_face_with_chinese_notice(tmp_path, monkeypatch, caplog):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fc = bindir / "fc-list"
    fc.write_text("#!/nonexistent/interpreter\n")
    fc.chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setattr(fonts, "KNOWN_FILES", (str(tmp_path / "absent.ttc"),))
    with caplog.at_level(logging.WARNING, logger=fonts.__name__):
        font = fonts.find_cjk_font()
    assert font is not None and font.bundled and Path(font.path) == BUNDLED
    assert fonts.NO_SYSTEM_FONT in caplog.text
    assert fonts.notice() == fonts.NO_SYSTEM_FONT
    assert "思源黑体" in fonts.notice()


def test_no_font_at_all_gives_the_reinstall_message(tmp_path, monkeypatch):
    _no_fc_list(tmp_path, monkeypatch)
    monkeypatch.setattr(fonts, "KNOWN_FILES", ())
    monkeypatch.setitem(sys.modules, "pylopdf_fonts_zh_cn", None)  # the font package is not installed
    assert fonts.find_cjk_font() is None
    assert fonts.font_properties(12) is None
    message = fonts.notice()
    assert message is not None and "本机没有可用的中文字体" in message and "重新安装 dpsheets" in message


def test_docs_tells_the_user_once_in_chinese_that_the_bundled_face_was_used(tmp_path, monkeypatch):
    """No Chinese font on the machine (no fontconfig, none at the known places): ``dpsheets docs`` draws the map
    with the bundled face and says so once — for two workbooks, one notice — and names what to install;
    ``--json`` carries it as the catalogued notice of each file."""
    import json

    from builders import AS_OF, valid_workbook
    from click.testing import CliRunner

    from dpsheets.cli import cli
    from dpsheets.errors import NOTICES

    books = [valid_workbook(tmp_path / f"厂{i}.xlsx", posts=2, employees=2) for i in range(2)]
    _no_fc_list(tmp_path, monkeypatch)
    monkeypatch.setattr(fonts, "KNOWN_FILES", ())
    args = ["docs", *map(str, books), "--only", "board", "--as-of", AS_OF.isoformat()]
    result = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "打印")])
    assert result.exit_code in (0, 1), result.output
    assert fonts.find_cjk_font().bundled
    message = NOTICES["font.bundled"].message
    assert result.output.count("本机未安装中文字体") == 1 and message in result.output.replace("\n", "")
    assert "fonts-noto-cjk" in message and "思源黑体" in message and "随 dpsheets 安装" in message
    assert {p.name for p in (tmp_path / "打印").rglob("*.docx")} == {"风险公告栏.docx"}

    lines = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "json"), "--json"]).output.splitlines()
    notices = [json.loads(line)["notices"] for line in lines]
    assert notices == [[{"code": "font.bundled", "message": message}]] * 2


def test_a_system_font_gives_no_notice(tmp_path, monkeypatch):
    from builders import AS_OF, valid_workbook

    from dpsheets.documents.render import render_all
    from dpsheets.workbook.reader import read_workbook

    monkeypatch.setattr(fonts, "KNOWN_FILES", (str(BUNDLED),))  # a face found on the machine, not the package's
    _no_fc_list(tmp_path, monkeypatch)
    data = read_workbook(valid_workbook(tmp_path / "厂.xlsx", posts=2, employees=2))
    assert render_all(data, tmp_path / "o", as_of=AS_OF, kinds=("board",)).notices == []
    fonts.find_cjk_font.cache_clear()
    monkeypatch.setattr(fonts, "KNOWN_FILES", ())
    assert render_all(data, tmp_path / "o", as_of=AS_OF, kinds=("board",)).notices == ["font.bundled"]
