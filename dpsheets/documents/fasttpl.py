"""docxtpl without the work that does not change from one render to the next.

``DocxTemplate.render`` cleans the template's XML with a dozen regular expressions and compiles
it with Jinja on every call, compiles each core property as a template too, walks every table
to fix ``{%tc %}`` column loops, and runs three nested regular expressions over every paragraph
of the *output* to turn line breaks into ``<w:br/>``. For a county printing thousands of cards
that is most of the time. :class:`Template` gives the same document (tests/test_documents.py
compares the XML with plain docxtpl's) with:

* the cleaned, compiled template kept per process (keyed by the file's path, size and time);
* the line-break treatment run only on the paragraphs that contain a line break, tab or page break;
* the table fix skipped when the template has no ``{%tc`` loop, and core properties rendered only
  when they hold a tag;
* images found by a dictionary, not by hashing every image already in the document and searching
  the list of part names each time one is added (quadratic: a third of a 100-card run).

:class:`SharedImage` is an image placed many times in one document (the enterprise QR code on
every notice, a post's code on each of its employees' lists): it is inserted into the package
once and its XML reused; docxtpl renumbers the drawing ids afterwards.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from docxtpl import DocxTemplate, InlineImage

_LISTING = re.compile("[\t\a\n\f]")
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)
_PARAGRAPH_START = re.compile(r"<w:p([ >])")
_PARAGRAPH_JOIN = re.compile(r"\n<w:p([ >])")
_TC_LOOP = re.compile(r"\{%\s*tc\s")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """One Jinja environment for every document: escaping on, an unknown name an error."""
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


_COMPILED: dict[tuple[str, int, int], tuple[jinja2.Template, str, bool]] = {}  # per process


class Template(DocxTemplate):
    """A ``DocxTemplate`` whose cleaned and compiled body is kept per process (see the module doc)."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        stat = path.stat()
        self._key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        self._tc_loops = True

    def _template(self) -> tuple[jinja2.Template, str]:
        if self._key not in _COMPILED:
            source = _PARAGRAPH_START.sub(r"\n<w:p\1", self.patch_xml(self.get_xml()))
            try:
                template = environment().from_string(source)
            except jinja2.TemplateError as exc:
                _add_context(exc, source)
                raise
            if len(_COMPILED) >= 64:
                _COMPILED.clear()
            _COMPILED[self._key] = (template, source, bool(_TC_LOOP.search(source)))
        template, source, self._tc_loops = _COMPILED[self._key]
        return template, source

    def render_init(self) -> None:
        super().render_init()
        _index_images(self.docx.part.package.image_parts)

    def build_xml(self, context: dict[str, Any], jinja_env: jinja2.Environment | None = None) -> str:
        """docxtpl's ``build_xml`` + ``render_xml_part`` for the body, with the compiled template reused."""
        template, source = self._template()
        self.current_rendering_part = self.docx._part
        try:
            xml = template.render(context)
        except jinja2.TemplateError as exc:
            _add_context(exc, source)
            raise
        xml = _PARAGRAPH_JOIN.sub(r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        return self.resolve_listing(xml)

    def resolve_listing(self, xml: str) -> str:
        """docxtpl's treatment of line breaks, tabs and page breaks, on the paragraphs that have one."""
        if not _LISTING.search(xml):
            return xml
        whole = super().resolve_listing
        return _PARAGRAPH.sub(lambda m: whole(m.group(0)) if _LISTING.search(m.group(0)) else m.group(0), xml)

    def fix_tables(self, xml: str) -> Any:
        if self._tc_loops:
            return super().fix_tables(xml)
        from lxml import etree

        return etree.fromstring(xml, parser=etree.XMLParser(recover=True))

    def render_properties(self, context: dict[str, Any], jinja_env: jinja2.Environment | None = None) -> None:
        props = self.docx.core_properties
        names = ("author", "comments", "identifier", "language", "subject", "title")
        if any("{" in (getattr(props, name) or "") for name in names):
            super().render_properties(context, jinja_env)


def _index_images(parts: Any) -> None:
    """python-docx's ``ImageParts`` with its SHA1 lookup and next part name kept in a dictionary and a counter
    (same results: an image already in the package is reused, new ones are numbered after the highest)."""
    try:
        from docx.opc.packuri import PackURI

        by_sha1 = {part.sha1: part for part in parts}
        numbers = [part.partname.idx or 0 for part in parts]
        add = parts._add_image_part
    except AttributeError:  # another python-docx: keep its own way
        return
    counter = [max(numbers, default=0)]

    def next_partname(ext: str) -> Any:
        counter[0] += 1
        return PackURI(f"/word/media/image{counter[0]}.{ext}")

    def add_image_part(image: Any) -> Any:
        part = add(image)
        by_sha1[image.sha1] = part
        return part

    parts._get_by_sha1 = by_sha1.get
    parts._next_image_partname = next_partname
    parts._add_image_part = add_image_part


def _add_context(exc: jinja2.TemplateError, source: str) -> None:
    """The template's text around the faulty line, as docxtpl gives it (for the Chinese message)."""
    line = getattr(exc, "lineno", None)
    if line is not None:
        start = max(line - 4, 0)
        exc.docx_context = [re.sub(r"<[^>]+>", "", x) for x in source.splitlines()[start:start + 7]]  # type: ignore[attr-defined]


class SharedImage(InlineImage):
    """An image placed many times in one document: inserted once, its XML reused."""

    _xml: str | None = None

    def _insert_image(self) -> str:
        if self._xml is None:
            self._xml = super()._insert_image()
        return self._xml


def shared_image(tpl: DocxTemplate, png: bytes, width: Any) -> SharedImage:
    """The one :class:`SharedImage` of *png* at *width* in the document of *tpl*."""
    images: dict[tuple[bytes, int], SharedImage] = tpl.__dict__.setdefault("_shared_images", {})
    key = (png, int(width))
    if key not in images:
        images[key] = SharedImage(tpl, io.BytesIO(png), width=width)
    return images[key]
