"""Excel (openpyxl, write-only), PDF (reportlab) and Word (python-docx) writers for any report.

- Excel: the rows on the first sheet with the header row frozen, filters on, column widths set
  and dates as real dates (UTC); the heading (title, scope, generated, requester, filters) on a
  second sheet, "About".
- PDF: landscape, the title, scope, generation time and requester at the top of every page and
  "Page N of M" at the bottom; the header row repeats on each page.
- Word: the heading, then one table with the same columns (its header row repeats on each page);
  the page header carries the title, scope, time and requester.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from itertools import chain, islice

from audit.reports.formats import CHUNK, Meta, Progress, _noop, text

PEEK = 200  # rows looked at to size the columns


def _peek(rows: Iterable[tuple]) -> tuple[list[tuple], Iterator[tuple]]:
    it = iter(rows)
    head = list(islice(it, PEEK))
    return head, chain(head, it)


def _widths(kind, head: list[tuple]) -> list[int]:
    out = []
    for i, column in enumerate(kind.columns):
        if column in kind.widths:
            out.append(kind.widths[column])
            continue
        longest = max([len(column)] + [len(text(row[i])) for row in head])
        out.append(min(max(longest + 2, 10), 60))
    return out


def write_xlsx(meta: Meta, kind, rows: Iterable[tuple], progress: Progress = _noop) -> bytes:
    """The rows on "Report" (header bold and frozen, filters on, widths set, dates as dates, UTC),
    the heading on "About"; written by audit.reports.xlsx, which streams SpreadsheetML (openpyxl,
    even write-only, took a minute for the statewide report)."""
    from audit.reports import xlsx
    head, rows = _peek(rows)
    body, n = xlsx.write([*meta.lines(), ("Times", "UTC")], meta.title, meta.generated_by, kind.columns,
                         _widths(kind, head), rows, progress, CHUNK, kind.date_columns)
    meta.rows = n
    return body


def write_pdf(meta: Meta, kind, rows: Iterable[tuple], progress: Progress = _noop) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import inch
    from reportlab.pdfgen import canvas as pdfcanvas
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    page = landscape(letter)
    margin = 0.5 * inch
    head, rows = _peek(rows)
    raw = [max(w, max(len(word) for word in c.split()) + 2)  # a header's words are not broken
           for w, c in zip(_widths(kind, head), kind.columns, strict=True)]
    usable = page[0] - 2 * margin
    widths = [usable * w / sum(raw) for w in raw]
    cell_style = ParagraphStyle("cell", fontName="Helvetica", fontSize=7, leading=8.5)
    header_style = ParagraphStyle("head", parent=cell_style, fontName="Helvetica-Bold")
    style = TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 7), ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
                        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)])
    header = [Paragraph(c, header_style) for c in kind.columns]
    limits = [max(int(w / 3.6), 4) for w in widths]  # characters that fit a column in 7 pt Helvetica
    width = len(kind.columns)
    story: list = [Spacer(1, 4)]
    block: list = []
    n = 0

    def flush():
        if block:
            story.append(LongTable([header] + block, colWidths=widths, repeatRows=1, style=style))
            block.clear()

    for n, row in enumerate(rows, 1):
        cells = []
        for i, value in enumerate(row[:width]):
            s = text(value)
            cells.append(Paragraph(_escape(s), cell_style) if len(s) > limits[i] else s)
        block.append(cells)
        if n % CHUNK == 0:
            flush()
            progress(n)
    flush()
    progress(n)
    meta.rows = n
    if n == 0:
        story.append(Paragraph("No rows match this report.", cell_style))
    lines = meta.lines()

    class Numbered(pdfcanvas.Canvas):
        """Draws the heading on every page, and "Page N of M" once the page count is known."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            top = page[1] - margin + 12
            self.setFont("Helvetica-Bold", 11)
            self.drawString(margin, top, meta.title)
            self.setFont("Helvetica", 8)
            self.drawString(margin, top - 12, f"Scope: {meta.scope}")
            self.drawString(margin, top - 22, f"Generated {lines[2][1]} for {meta.generated_by}"
                                              + (f" · {lines[4][1]}" if meta.filters else ""))
            self.drawRightString(page[0] - margin, margin - 18, f"Page {self._pageNumber} of {total}")

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=page, leftMargin=margin, rightMargin=margin,
                            topMargin=margin + 30, bottomMargin=margin, title=meta.title, author=meta.generated_by)
    doc.build(story, canvasmaker=Numbered)
    return out.getvalue()


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_docx(meta: Meta, kind, rows: Iterable[tuple], progress: Progress = _noop) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    lines = meta.lines()
    section.header.paragraphs[0].text = f"{meta.title} · {meta.scope} · generated {lines[2][1]} for {meta.generated_by}"
    document.add_heading(meta.title, level=1)
    info = document.add_paragraph()
    table = document.add_table(rows=1, cols=len(kind.columns))
    table.style = "Table Grid"
    for cell, column in zip(table.rows[0].cells, kind.columns, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(column).bold = True
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    tbl = table._tbl
    width = len(kind.columns)
    # rows are added as plain WordprocessingML (python-docx's cell API costs ~1 ms a cell)
    from lxml import etree
    tr_tag, tc_tag, p_tag, r_tag, t_tag = (qn("w:tr"), qn("w:tc"), qn("w:p"), qn("w:r"), qn("w:t"))
    space = "{http://www.w3.org/XML/1998/namespace}space"
    n = 0
    for n, row in enumerate(rows, 1):
        tr = etree.SubElement(tbl, tr_tag)
        for value in row[:width]:
            r = etree.SubElement(etree.SubElement(etree.SubElement(tr, tc_tag), p_tag), r_tag)
            t = etree.SubElement(r, t_tag)
            t.text = text(value)
            t.set(space, "preserve")
        if n % CHUNK == 0:
            progress(n)
    progress(n)
    meta.rows = n
    for label, value in meta.lines():
        run = info.add_run(f"{label}: ")
        run.bold = True
        info.add_run(f"{value}\n")
    for paragraph in (info,):
        for run in paragraph.runs:
            run.font.size = Pt(9)
    body = io.BytesIO()
    document.save(body)
    return body.getvalue()
