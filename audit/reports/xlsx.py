# ruff: noqa: E501  (the package boilerplate below is long XML lines, kept as Excel writes them)
"""A streaming Excel (xlsx) writer for large reports: SpreadsheetML written straight into the zip.

openpyxl (even write-only) spends about 10 µs a cell, so a statewide Security Audit Report
(264,000 rows × 10 columns) took minutes; this writes the same workbook — the rows on "Report"
with the header row bold and frozen, filters on, column widths set, dates as real dates (UTC,
formatted yyyy-mm-dd or yyyy-mm-dd hh:mm), and the heading on "About" — in one pass, a few
hundred rows at a time. Text is written inline (no shared-strings table to hold in memory);
characters XML cannot carry are dropped, text that would run as a formula is kept inert.
"""
from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from collections.abc import Iterable

from edlink import clock

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)
_DAY_EPOCH = _EXCEL_EPOCH.date()
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
STYLE_BOLD, STYLE_DATE, STYLE_DATETIME = 1, 2, 3

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
</Relationships>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet {NS}>
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


def _letters(n: int) -> list[str]:
    out = []
    for i in range(1, n + 1):
        name = ""
        while i:
            i, rem = divmod(i - 1, 26)
            name = chr(65 + rem) + name
        out.append(name)
    return out


def _esc(value: str) -> str:
    """Escape text for XML (characters XML cannot carry are dropped per chunk, by _clean)."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    return value


def _clean(xml: str) -> bytes:
    """Drop the control characters XML 1.0 cannot carry (they can only come from cell text)."""
    return _ILLEGAL.sub("", xml).encode("utf-8")


def _text_cell(ref: str, value: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_esc(value)}</t></is></c>'


def _value_cell(ref: str, value) -> str:
    if value is None or value == "":
        return ""
    if value.__class__ is str:
        return _text_cell(ref, value)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, _dt.datetime):
        serial = (clock.as_utc(value).replace(tzinfo=None) - _EXCEL_EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{STYLE_DATETIME}"><v>{serial!r}</v></c>'
    if isinstance(value, _dt.date):
        return f'<c r="{ref}" s="{STYLE_DATE}"><v>{(value - _DAY_EPOCH).days}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return _text_cell(ref, str(value))


def _sheet_head(widths: list[int], frozen: bool) -> str:
    view = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            if frozen else '<sheetViews><sheetView workbookViewId="0"/></sheetViews>')
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {NS} {REL_NS}>{view}'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')


def _as_date(value):
    """A date column's value as a date: ISO text (as a database may give it) becomes a date or
    a date-time; anything else is written as it is."""
    if value.__class__ is str and value:
        try:
            return _dt.date.fromisoformat(value) if len(value) == 10 else clock.parse_iso(value)
        except ValueError:
            return value
    return value


def write(meta_lines: list[tuple[str, str]], title: str, author: str, columns: tuple[str, ...],
          widths: list[int], rows: Iterable[tuple], progress, chunk: int = 500,
          date_columns: frozenset[str] = frozenset()) -> tuple[bytes, int]:
    """(the workbook, rows written). Values of ``date_columns`` given as ISO text are written as
    real dates too."""
    letters = _letters(len(columns))
    width = len(columns)
    dates = frozenset(i for i, column in enumerate(columns) if column in date_columns)
    out = io.BytesIO()
    n = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        book.writestr("xl/styles.xml", STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            parts = [_sheet_head(widths, True), '<row r="1">',
                     *(_text_cell(f"{letters[i]}1", c, STYLE_BOLD) for i, c in enumerate(columns)), "</row>"]
            for n, row in enumerate(rows, 1):
                r = n + 1
                parts.append(f'<row r="{r}">')
                parts.extend(_value_cell(f"{letters[i]}{r}", _as_date(v) if i in dates else v)
                             for i, v in enumerate(row[:width]))
                parts.append("</row>")
                if n % chunk == 0:
                    sheet.write(_clean("".join(parts)))
                    parts.clear()
                    progress(n)
            parts.append(f'</sheetData><autoFilter ref="A1:{letters[-1]}{n + 1}"/>'
                         '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                         '</worksheet>')
            sheet.write(_clean("".join(parts)))
        progress(n)
        about = [_sheet_head([16, 80], False)]
        for i, (label, value) in enumerate(meta_lines, 1):
            about.append(f'<row r="{i}">{_text_cell(f"A{i}", label)}{_text_cell(f"B{i}", value)}</row>')
        about.append("</sheetData></worksheet>")
        book.writestr("xl/worksheets/sheet2.xml", _clean("".join(about)))
        book.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {NS} {REL_NS}>'
            '<bookViews><workbookView/></bookViews><sheets>'
            '<sheet name="Report" sheetId="1" r:id="rId1"/><sheet name="About" sheetId="2" r:id="rId2"/></sheets>'
            f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
            f"Report!$A$1:${letters[-1]}${n + 1}</definedName></definedNames></workbook>"))
        now = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        book.writestr("docProps/core.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{_esc(title)}</dc:title><dc:creator>{_esc(author)}</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created></cp:coreProperties>'))
    return out.getvalue(), n
