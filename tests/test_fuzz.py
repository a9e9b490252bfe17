"""Fuzz: a few hundred mutated workbooks (a seeded mutator over the standard template) through
`check` (in-process) and `ingest` (the county's worker process): no crash, no hang, a highlighted copy
for every readable file, nothing left in 处理中.

Scale it with DPSHEETS_FUZZ=1000 (number of mutants); CI runs the default.
"""

from __future__ import annotations

import io
import os
import random
import re
import signal
import zipfile
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest
from builders import AS_OF, small_workbook

from dpsheets.county.inbox import Processor, safe_name
from dpsheets.county.watch import ingest
from dpsheets.pipeline import FileResult, pipeline
from dpsheets.workbook.registers import META_SHEET, REGISTERS

COUNT = int(os.environ.get("DPSHEETS_FUZZ", "300"))
CHECK_CHUNKS = 8
INGEST_CHUNKS = 4
PER_FILE_SECONDS = 30

WEIRD_TEXT = ["=1+2", "=HYPERLINK(\"http://x\",\"y\")", "宏达[/b]机械", "[bold red]x[/]", "😀" * 70, "𠀀" * 70,
              "a\x0bb", "_x000B_", "&#11;", "../../etc", "", " ", "0" * 300, "91411121MA9KXD3R0X", "-1e12", "NaN"]
WEIRD_NUMBERS = ["-1e12", "1e308", "-0", "NaN", "INF", "1e-320", "99999999999999999999", "2.5", "abc", ""]
FAR_REFS = ["XFD1048576", "XFD19990", "XFD1", "ZZ100", "AAA3", "A30000", "B1048576", "IV65536"]
CELL_TYPES = ["s", "n", "b", "e", "str", "inlineStr", "d", "zzz"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> bytes:
    """A small valid workbook with the core sheets only (fewer sheets: more mutants per second)."""
    path = small_workbook(tmp_path_factory.mktemp("fuzz") / "base.xlsx", 1)
    wb = openpyxl.load_workbook(path)
    keep = {r.sheet for r in REGISTERS if r.core} | {META_SHEET}
    for name in wb.sheetnames:
        if name not in keep:
            del wb[name]
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _sheets(m: dict[str, bytes]) -> list[str]:
    return [n for n in m if n.startswith("xl/worksheets/") and n.endswith(".xml")]


def _xml_text(rng: random.Random) -> str:
    text = rng.choice(WEIRD_TEXT)
    return text if "&#" in text else text.replace("&", "&amp;").replace("<", "&lt;")


def mutate(base: bytes, rng: random.Random) -> bytes:
    """One to three structural or byte-level mutations of *base*."""
    m = _members(base)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(12)
        sheet = rng.choice(_sheets(m)) if _sheets(m) else None
        if kind == 0 and sheet:  # a far cell
            ref = rng.choice(FAR_REFS)
            row = re.sub(r"^[A-Z]+", "", ref)
            cell = f'<c r="{ref}" t="inlineStr"><is><t>x</t></is></c>'
            m[sheet] = m[sheet].replace(b"</sheetData>", f'<row r="{row}">{cell}</row></sheetData>'.encode())
        elif kind == 1 and sheet:  # odd numbers in value cells
            m[sheet] = re.sub(rb"<v>[^<]*</v>", lambda _: f"<v>{rng.choice(WEIRD_NUMBERS)}</v>".encode(), m[sheet],
                              count=rng.randint(1, 20))
        elif kind == 2 and "xl/sharedStrings.xml" in m:  # odd text (markup, formulas, emoji, control chars)
            m["xl/sharedStrings.xml"] = re.sub(rb"<t([^>]*)>[^<]*</t>", lambda mt: b"<t" + mt.group(1) + b">" +
                                               _xml_text(rng).encode() + b"</t>", m["xl/sharedStrings.xml"],
                                               count=rng.randint(1, 30))
        elif kind == 3 and sheet:  # cell types flipped
            m[sheet] = re.sub(rb' t="[a-zA-Z]+"', lambda _: f' t="{rng.choice(CELL_TYPES)}"'.encode(), m[sheet],
                              count=rng.randint(1, 30))
        elif kind == 4 and sheet:  # shared-string indexes out of range
            m[sheet] = re.sub(rb'(t="s"[^>]*><v>)\d+', lambda mt: mt.group(1) + str(rng.choice([-1, 99999, 2**40])).encode(),
                              m[sheet], count=rng.randint(1, 5))
        elif kind == 5:  # a part removed
            victim = rng.choice(list(m))
            del m[victim]
        elif kind == 6 and sheet:  # a merge over a big range, or over the data
            ref = rng.choice(["A1:XFD1048576", "A1:Z200", "C3:C9", "A2:B3"])
            m[sheet] = m[sheet].replace(b"</sheetData>", f'</sheetData><mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'.encode(), 1)
        elif kind == 7 and "xl/workbook.xml" in m:  # sheet names renamed
            m["xl/workbook.xml"] = re.sub(rb'<sheet name="[^"]*"', lambda _: f'<sheet name="{rng.choice(["😀" * 20, "=x", "风险管控清单", "a&amp;b"])}"'.encode(),
                                          m["xl/workbook.xml"], count=1)
        elif kind == 8:  # random bytes flipped inside a part
            name = rng.choice(list(m))
            data = bytearray(m[name])
            for _ in range(rng.randint(1, 8)):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
            m[name] = bytes(data)
        elif kind == 9 and sheet:  # rows duplicated and reordered, references dropped
            m[sheet] = re.sub(rb' r="[A-Z]+\d+"', b"", m[sheet], count=rng.randint(1, 50))
        elif kind == 10 and sheet:  # XML cut short
            m[sheet] = m[sheet][: rng.randrange(len(m[sheet]) or 1)]
        elif kind == 11 and sheet:  # control characters, raw and escaped
            m[sheet] = m[sheet].replace(b"</sheetData>", b'<row r="40"><c r="A40" t="inlineStr"><is><t>\x0b\x01_x000B_</t></is></c></row></sheetData>')
    data = _zip(m)
    roll = rng.random()
    if roll < 0.08:  # the file itself damaged: truncated or bytes flipped
        data = data[: rng.randrange(len(data))]
    elif roll < 0.12:
        buf = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        data = bytes(buf)
    return data


def _name(rng: random.Random, i: int) -> str:
    stem = rng.choice(["台账", "=1+2", "😀" * 40, "宏达[b]机械", "a b", "x" * 100, "名" * 60])
    return f"{i:04d}_{stem}.xlsx"


@contextmanager
def _deadline(seconds: int, what: str):
    def hang(signum, frame):  # noqa: ANN001
        raise TimeoutError(f"{what} took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _mutants(base: bytes, chunk: int, chunks: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(chunk, COUNT, chunks):
        rng = random.Random(1000 + i)
        path = folder / _name(rng, i)
        path.write_bytes(mutate(base, rng))
        out.append(path)
    return out


@pytest.mark.parametrize("chunk", range(CHECK_CHUNKS))
def test_check_never_crashes_or_hangs_and_copies_every_readable_file(base, tmp_path, chunk):
    for path in _mutants(base, chunk, CHECK_CHUNKS, tmp_path / "in"):
        with _deadline(PER_FILE_SECONDS, path.name):
            result = pipeline(path, as_of=AS_OF, out_dir=tmp_path / "out")
        assert isinstance(result, FileResult)
        if result.error is None:
            assert result.highlighted is not None and result.highlighted.exists(), (path.name, result.notes)
        else:
            assert result.error.message and result.error.code


@pytest.mark.parametrize("chunk", range(INGEST_CHUNKS))
def test_ingest_puts_every_mutant_somewhere_visible(base, tmp_path, chunk):
    root = tmp_path / "县"
    files = _mutants(base, chunk, INGEST_CHUNKS, root / "收件箱")
    processor = Processor(root, as_of=AS_OF, documents=False)
    try:
        with _deadline(PER_FILE_SECONDS * len(files), "ingest"):
            outcomes = ingest(processor)
    finally:
        processor.close()
    assert len(outcomes) == len(files)
    assert not list((root / "处理中").iterdir()) and not list((root / "收件箱").iterdir())
    processed = [p for p in (root / "已处理").iterdir()]
    returned = [p for p in (root / "退回").iterdir() if not p.name.endswith(".txt")]
    assert len(processed) + len(returned) == len(files)
    for p in returned:
        assert p.with_name(p.name + ".txt").read_text(encoding="utf-8").strip()
    for o in outcomes:  # every archived file has its own highlighted copy and report in its enterprise's folder
        if o.destination == "已处理" and not o.duplicate:
            folder = root / "反馈" / o.enterprise
            assert (folder / f"{Path(safe_name(o.name)).stem}_检查结果.xlsx").is_file(), o
            assert (folder / "检查报告.txt").is_file(), o
    assert not list(root.rglob(".dpsheets-*"))  # no half-written output left behind
