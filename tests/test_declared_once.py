"""Document kinds and field-type labels are declared once (dpsheets/documents/kinds.py,
dpsheets/workbook/registers.py FIELD_TYPE_LABELS); everything that lists them is derived or equal."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl

from dpsheets.cli import cli
from dpsheets.documents import kinds, render
from dpsheets.documents.template_build import REPORT_TEMPLATES, TEMPLATES
from dpsheets.workbook.fieldsdoc import DOC_FILE
from dpsheets.workbook.registers import FIELD_TYPE_LABELS, REGISTERS, FieldType
from dpsheets.workbook.template_export import PACKAGE_FILE

ROOT = Path(__file__).resolve().parents[1]


def test_every_kind_has_a_template_a_renderer_and_a_choice():
    assert tuple(TEMPLATES) == kinds.KEYS
    assert all(TEMPLATES[k.key][0] == k.filename for k in kinds.KINDS)
    assert [(key, name) for key, (name, _) in REPORT_TEMPLATES.items()] == [(kinds.COUNTY_REPORT.key,
                                                                            kinds.COUNTY_REPORT.filename)]
    builders = render._builders(None, date(2026, 11, 28), None, None)  # type: ignore[arg-type] - lambdas only
    assert tuple(builders) == kinds.KEYS == render.KINDS
    only = next(p for p in cli.commands["docs"].params if p.name == "kinds")
    assert tuple(only.type.choices) == kinds.KEYS


def test_readme_names_every_kind():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs_row = next(line for line in readme.splitlines() if line.startswith("| `dpsheets docs"))
    assert all(k.title in docs_row for k in kinds.KINDS), docs_row


def test_field_type_labels_in_the_template_and_the_docs():
    used = {f.type for r in REGISTERS for f in r.fields}
    assert set(FIELD_TYPE_LABELS) == set(FieldType)
    doc = DOC_FILE.read_text(encoding="utf-8")
    sheet = openpyxl.load_workbook(PACKAGE_FILE)["填表说明"]
    shown = {c.value for c in sheet["B"] if c.value}
    for t in used:
        assert f"| {FIELD_TYPE_LABELS[t]} |" in doc
        assert FIELD_TYPE_LABELS[t] in shown


def test_identity_headers_of_the_report_and_the_web_pages_are_the_declared_ones():
    """The enterprise's identity columns (registers.identity_columns) head the report's tables and the staff pages."""
    import re

    import docx

    from dpsheets.county.summary_report import _template
    from dpsheets.workbook.registers import identity_columns

    declared = dict(identity_columns())
    heads = [[c.text for c in t.rows[0].cells] for t in docx.Document(str(_template())).tables]
    by_first = {h[0]: h for h in heads}
    assert by_first["序号"][1:4] == [declared["name"], declared["township"], declared["industry"]]  # 重点检查企业
    assert declared["township"] in by_first  # 各乡镇情况
    assert sum(h[0] == declared["name"] for h in heads) == 2  # 逾期隐患, 重大隐患
    web = ROOT / "dpsheets" / "web" / "templates"
    for page in web.glob("staff_*.html"):
        headers = re.findall(r"<th>([^<{]*)</th>", page.read_text(encoding="utf-8"))  # the hand-written ones
        assert not {"企业", "企业名称", "乡镇", "行业", "县区", "统一社会信用代码"} & set(headers), page.name
