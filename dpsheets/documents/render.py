"""Rendering the printable Word documents of one workbook (docxtpl), and PDF via LibreOffice.

One render per document kind: the template loops over all items (30 cards, one per
page), which is many times faster than one render per item. ``split=True`` also writes
one file per item. A broken or edited template gives a clear Chinese error naming the
template and the tag, and the other kinds are still written.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage, RichText

from dpsheets.config import Config
from dpsheets.documents import context as ctx
from dpsheets.documents import fonts, kinds, qr, riskmap
from dpsheets.documents.fasttpl import Template, environment, shared_image
from dpsheets.documents.kinds import BOARD_PAPERS, BOARD_TABLE_PT, BoardPaper
from dpsheets.documents.template_build import TABLE_FONT, TEMPLATES, TEMPLATES_DIR
from dpsheets.fsutil import atomic_path
from dpsheets.rules.stats import Period
from dpsheets.workbook.model import WorkbookData

KINDS = kinds.KEYS
KIND_NAMES = {k.key: k.title for k in kinds.KINDS}
LIST_KEYS = {k.key: k.items for k in kinds.KINDS if k.items}
# lists printed once in the merged file, not in each file of ``split`` (the unit lists precede the employees')
SPLIT_ONLY_IN_MERGED = {"duty_lists": ("units",)}


@dataclass
class RenderOutcome:
    files: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # Chinese, naming the template and the tag
    skipped: list[str] = field(default_factory=list)  # kinds with nothing to print
    notices: list[str] = field(default_factory=list)  # codes of dpsheets.errors.NOTICES (no Chinese font here)


def template_path(kind: str, config: Config) -> Path:
    """The county's edited template when ``templates_dir`` has one, else the one shipped in the package
    (the 公告栏 of the configured paper: ``[print] paper``)."""
    filename = board_paper(config).filename if kind == "board" else TEMPLATES[kind][0]
    if config.templates_dir and (Path(config.templates_dir) / filename).is_file():
        return Path(config.templates_dir) / filename
    return TEMPLATES_DIR / filename


def render_all(data: WorkbookData, out_dir: Path, *, as_of: date, config: Config | None = None,
               kinds: tuple[str, ...] = KINDS, split: bool = False, pdf: bool = False,
               period: Period | None = None) -> RenderOutcome:
    config = config or Config()
    period = period or Period.last_complete_quarter(as_of)
    outcome = RenderOutcome()
    out_dir.mkdir(parents=True, exist_ok=True)
    builders = _builders(data, as_of, config, period)
    for kind in kinds:
        _render_kind(kind, builders[kind], data, out_dir, as_of, config, split, period, outcome)
    code = fonts.notice_code() if "board" in kinds else None  # the map is the picture dpsheets draws with a font
    if code:
        outcome.notices.append(code)
    if pdf:
        pdfs, message = to_pdf([f for f in outcome.files if f.suffix == ".docx"], out_dir)
        outcome.files.extend(pdfs)
        if message:
            outcome.errors.append(message)
    return outcome


def _builders(data: WorkbookData, as_of: date, config: Config, period: Period) -> dict[str, Callable[[], dict]]:
    return {
        "cards": lambda: {"cards": ctx.cards(data, config)},
        "duty_lists": lambda: dict(zip(("employees", "_errors"), ctx.duty_lists(data, config), strict=True),
                                   units=ctx.unit_lists(data)),
        "notices": lambda: {"notices": ctx.notices(data, as_of, config)},
        "reminders": lambda: {"reminders": ctx.reminders(data, as_of, config)},
        "majors": lambda: {"majors": ctx.majors(data)},
        "board": lambda: dict(_board_context(data, config), **_board_rewards(data, as_of, config), signs=ctx.signs(data)),
        "quarterly": lambda: ctx.quarterly(data, period, as_of),
    }


def board_paper(config: Config) -> BoardPaper:
    return BOARD_PAPERS[config.print.paper]


def _board_rewards(data: WorkbookData, as_of: date, config: Config) -> dict[str, Any]:
    """The newest 奖惩考核 the board's paper has room for (it stays one page); the rest are counted."""
    rows, room = ctx.rewards(data, as_of), board_paper(config).reward_rows
    return {"rewards": rows[:room], "rewards_more": max(len(rows) - room, 0)}


def _board_context(data: WorkbookData, config: Config) -> dict[str, Any]:
    """The board's content for its paper; the map drawn for the width it prints at (its text at true size),
    as wide as the paper allows unless the sketch is tall."""
    paper = board_paper(config)
    risk_map, key = ctx.board(data, config)
    shape = riskmap.plan(risk_map, "", paper.map_width_mm)
    width = min(paper.map_width_mm, paper.map_height_mm * shape.width / shape.height)
    return {"map_notes": ctx.map_notes(risk_map), "key_risks": key[:paper.key_rows],
            "key_more": max(len(key) - paper.key_rows, 0), "_map": riskmap.draw(risk_map, "", width_mm=width),
            "_map_width": width}


def _output_name(kind: str, period: Period) -> str:
    name = TEMPLATES[kind][0]
    if kind == "quarterly":
        return name.replace(".docx", f"_{period.start.year}Q{(period.start.month - 1) // 3 + 1}.docx")
    return name


def _render_kind(kind: str, build_context: Callable[[], dict], data: WorkbookData, out_dir: Path, as_of: date,
                 config: Config, split: bool, period: Period, outcome: RenderOutcome) -> None:
    label = KIND_NAMES[kind]
    context = build_context()
    outcome.errors.extend(context.pop("_errors", ()))
    items_key = LIST_KEYS.get(kind)
    if items_key and not context[items_key]:
        outcome.skipped.append(f"没有需要生成{label}的内容")
        return
    path = template_path(kind, config)
    if not path.is_file():
        outcome.errors.append(f"找不到{label}的模板 {path}：安装不完整，请重新安装 dpsheets。")
        return
    try:
        outcome.files.append(_render(path, kind, context, data, as_of, config, out_dir / _output_name(kind, period)))
        if split and items_key:
            for i, item in enumerate(context[items_key], start=1):
                single = dict(context, **{items_key: [item]}, **dict.fromkeys(SPLIT_ONLY_IN_MERGED.get(kind, ()), []))
                target = out_dir / label / f"{i:03d}_{_item_name(item)}.docx"
                outcome.files.append(_render(path, kind, single, data, as_of, config, target))
    except jinja2.TemplateSyntaxError as exc:
        near = " ".join(s.strip() for s in getattr(exc, "docx_context", []) if s.strip())[:80]
        outcome.errors.append(f"模板《{path.name}》中有写错或被拆开的标签（{exc.message}；附近文字：{near}）。"
                              "请在 Word 中删除这个标签，再一次性完整输入，如 {{ card.post }}。")
    except jinja2.UndefinedError as exc:
        outcome.errors.append(f"模板《{path.name}》用到了不存在的内容：{exc.message}。请核对标签名称，可用的名称见原始模板。")
    except Exception as exc:  # noqa: BLE001 - one broken template must not stop the other documents
        outcome.errors.append(f"模板《{path.name}》无法生成{label}（{type(exc).__name__}: {exc}）。请换回原始模板再试。")


def _item_name(item: dict[str, Any]) -> str:
    raw = "_".join(str(item.get(k, "")) for k in ("workshop", "post", "unit", "name") if item.get(k))[:60]
    return "".join(c for c in raw if c not in '\\/:*?"<>|\n\r\t') or "item"


def _render(template: Path, kind: str, context: dict[str, Any], data: WorkbookData, as_of: date, config: Config,
            target: Path) -> Path:
    tpl = Template(template)
    full = dict(context)
    full.update(_common(tpl, data, as_of, config))
    if "_map" in full:
        full["risk_map"] = InlineImage(tpl, io.BytesIO(full.pop("_map")), width=Mm(full.pop("_map_width")))
        full["enterprise_qr"] = shared_image(tpl, _qr_png(_enterprise_payload(data, config)), Mm(board_paper(config).qr_mm))
    for item in full.get("key_risks", ()):  # the board's 等级 cell: white on red, in the table's font and size
        item["level_rt"] = RichText(item["short_level"], color="FFFFFF" if item["short_level"] == "重大风险" else None,
                                    size=int(board_paper(config).pt(BOARD_TABLE_PT) * 2), font=f"eastAsia:{TABLE_FONT}")
    for item in full.get("reminders", ()):
        item["level_rt"] = _level_rich_text(item)
    for notice in full.get("notices", ()):
        for h in notice["hazards"]:
            h["level_rt"] = _level_rich_text(h)
    if kind == "cards":
        full["cards"] = [_with_card_images(tpl, card, data, config) for card in full["cards"]]
    if kind == "duty_lists":
        full["employees"] = [dict(e, **_post_qr(tpl, e["source"], data, config, Mm(28))) for e in full["employees"]]
    tpl.render(full, environment(), autoescape=True)
    with atomic_path(target) as tmp:
        tpl.save(tmp)
    return target


def _level_rich_text(item: dict[str, Any]) -> RichText:
    """隐患等级: a major hazard in bold red, so that it cannot look ordinary."""
    rt = RichText()
    rt.add(item["level"], color="C00000" if item["major"] else None, bold=item["major"])
    return rt


def _enterprise_payload(data: WorkbookData, config: Config) -> str:
    ent = ctx.enterprise_context(data)
    return qr.enterprise_payload(ent["name"], ent["uscc"], ent["county"], config.qr_base_url, config.qr_secret)


def _common(tpl: DocxTemplate, data: WorkbookData, as_of: date, config: Config) -> dict[str, Any]:
    ent = ctx.enterprise_context(data)
    payload = _enterprise_payload(data, config)
    caption = qr.ENTERPRISE_CAPTION if _linked(config) else ctx.qr_caption(payload, "本企业一企一档") + "（一企一码）"
    return {"enterprise": ent, "today": ctx.text(as_of), "official": ctx.official(data, config),
            "enterprise_qr": shared_image(tpl, _qr_png(payload), Mm(28)), "enterprise_qr_caption": caption}


@lru_cache(maxsize=512)
def _qr_png(payload: str) -> bytes:
    """A QR image once per payload: a post's code serves its card and each of its employees' lists."""
    return qr.png(payload)


def _linked(config: Config) -> bool:
    """Whether QR codes open the county's web service (else they hold readable text)."""
    return bool(config.qr_base_url and config.qr_secret)


def _post_qr(tpl: DocxTemplate, post: Any, data: WorkbookData, config: Config, width: Mm) -> dict[str, Any]:
    """The post's QR code (岗位码) and a caption saying truthfully what it holds."""
    ent = ctx.enterprise_context(data)
    payload = qr.post_payload(ent["name"], ent["uscc"], ent["county"], ctx.text(post["workshop"], ""),
                              ctx.text(post["post"], ""), config.qr_base_url, config.qr_secret)
    caption = qr.POST_CAPTION if _linked(config) else ctx.qr_caption(payload, "本岗位风险告知") + "（岗位码）"
    return {"qr": shared_image(tpl, _qr_png(payload), width), "qr_caption": caption}


CARD_QR = Mm(38)  # scannable on a wall from arm's length (at least 35 mm)


def _with_card_images(tpl: DocxTemplate, card: dict[str, Any], data: WorkbookData, config: Config) -> dict[str, Any]:
    header = RichText()
    header.add(f"{card['workshop']} {card['post']}　岗位风险等级：{card['level']}", color="FFFFFF" if card["dark"] else "000000",
               bold=True, size=32)
    return dict(card, header=header, **_post_qr(tpl, card["source"], data, config, CARD_QR))


SOFFICE_PLACES = (r"C:\Program Files\LibreOffice\program\soffice.exe",
                  r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
                  "/Applications/LibreOffice.app/Contents/MacOS/soffice")


def soffice() -> str | None:
    """LibreOffice's command: on PATH, or where its Windows and macOS installers put it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    return found or next((p for p in SOFFICE_PLACES if Path(p).is_file()), None)


def _font_replacements(profile: Path) -> None:
    """LibreOffice's font replacement table for the fresh profile: a missing 仿宋/黑体/宋体 becomes the
    installed Simplified Chinese face (only when missing), never LibreOffice's default Japanese one."""
    from xml.sax.saxutils import escape

    pairs = fonts.office_substitutes()
    nodes = "".join(
        f'<node oor:name="dpsheets{i}" oor:op="replace">'
        '<prop oor:name="Always" oor:op="fuse"><value>true</value></prop>'  # only missing fonts are listed
        '<prop oor:name="OnScreenOnly" oor:op="fuse"><value>false</value></prop>'
        f'<prop oor:name="ReplaceFont" oor:op="fuse"><value>{escape(name)}</value></prop>'
        f'<prop oor:name="SubstituteFont" oor:op="fuse"><value>{escape(family)}</value></prop></node>'
        for i, (name, family) in enumerate(sorted(pairs.items())))
    xcu = ('<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
           'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
           '<item oor:path="/org.openoffice.Office.Common/Font/Substitution">'
           '<prop oor:name="Replacement" oor:op="fuse"><value>true</value></prop></item>'
           f'<item oor:path="/org.openoffice.Office.Common/Font/Substitution/FontPairs">{nodes}</item></oor:items>\n')
    (profile / "user" / "fonts").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(xcu, encoding="utf-8")
    for path in fonts.bundled_office_fonts().values():  # LibreOffice loads the fonts of its profile's user/fonts
        target = profile / "user" / "fonts" / path.name
        try:
            target.symlink_to(path)
        except OSError:  # no symlinks (Windows without the right): copy
            shutil.copyfile(path, target)


def to_pdf(files: list[Path], out_dir: Path, timeout: int = 300) -> tuple[list[Path], str | None]:
    """Convert .docx files to PDF with headless LibreOffice; (PDFs, Chinese message if it could not)."""
    if not files:
        return [], None
    exe = soffice()
    if exe is None:
        return [], "未安装 LibreOffice，未生成 PDF（Word 文件已生成，可直接打印）。安装方法：apt-get install libreoffice-writer-nogui fonts-noto-cjk"
    with tempfile.TemporaryDirectory(prefix="dpsheets-lo-") as profile:
        _font_replacements(Path(profile))
        by_folder: dict[Path, list[Path]] = {}
        for f in files:
            by_folder.setdefault(f.parent, []).append(f)
        try:
            for folder, group in by_folder.items():
                subprocess.run([exe, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                                "--convert-to", "pdf", "--outdir", str(folder), *map(str, group)],
                               check=True, capture_output=True, timeout=timeout)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            return [], f"LibreOffice 转换 PDF 失败（{type(exc).__name__}），Word 文件已生成。"
    pdfs = [f.with_suffix(".pdf") for f in files if f.with_suffix(".pdf").exists()]
    return pdfs, None if len(pdfs) == len(files) else "部分文件未能转换为 PDF，Word 文件已生成。"
