"""The review report for auditors: every item of a review, its helpers and what was decided,
as CSV or Excel (openpyxl). Each download is a ``report.generated`` event."""
from __future__ import annotations

import csv
import io

import audit
from edlink.errors import Invalid
from edlink.extensions import db
from workflows.reviews import helpers
from workflows.reviews.models import AccessReview, ReviewItem
from workflows.reviews.queries import item_state, progress, with_related

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
COLUMNS = ("Item", "Location Code", "Employee Number", "Name", "Username", "Role", "Role Code", "Grant",
           "Granted On", "Approved By", "HR Status", "Staff Type", "Assignment", "Org Matches Assignment",
           "Last Sign-in", "Last Use", "Grant Age (days)", "Recommendation", "Why", "State", "Decision",
           "Decided Via", "Decided By", "Decided At", "Comment", "Grant Status Now")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500


def check_format(fmt: str | None) -> str:
    fmt = (fmt or "csv").lower()
    if fmt not in FORMATS:
        raise Invalid("bad_format", f"format must be csv or xlsx, not {fmt!r}.", fields={"format": ["csv|xlsx"]})
    return fmt


def _day(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def rows(review: AccessReview):
    from roles.catalog import load
    catalog = load()
    ids = list(db.session.execute(db.select(ReviewItem.id).where(ReviewItem.review_id == review.id)
                                  .order_by(ReviewItem.id)).scalars())
    for start in range(0, len(ids), BATCH):
        items = list(db.session.execute(with_related(db.select(ReviewItem)).where(
            ReviewItem.id.in_(ids[start:start + BATCH])).order_by(ReviewItem.id)).scalars())
        advice = helpers.compute(items, review.application, review.lea_id)
        for item in items:
            h = advice[item.id]
            rec = item.recommendation or h.recommendation
            why = item.reasons if item.recommendation else h.reasons
            yield [item.id, item.org.code, h.employee_number or "", h.person or "", item.user.username,
                   catalog.name_of(item.role_code), item.role_code, item.grant_id, _day(item.grant.starts_at),
                   "; ".join(h.approved_by), h.hr_status, h.staff_type or "", h.assignment,
                   "yes" if h.org_matches else "no", _day(h.last_sign_in), _day(h.last_use), h.grant_age_days,
                   rec, "; ".join(why or []), item_state(item), item.decision or "", item.decided_via or "",
                   item.decided_by.username if item.decided_by else
                   ("system" if item.decided_via == "deadline" else ""),
                   _day(item.decided_at), item.comment or "", item.grant.status]


def _cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _heading(review: AccessReview) -> list[list]:
    tally = progress([review.id])[review.id]
    return [["Access review", review.label], ["School system", f"{review.lea.code} {review.lea.name}"],
            ["Application", review.application], ["Period", review.period], ["Status", review.status],
            ["Started", _day(review.started_at)], ["Due", _day(review.due_at)], ["Closed", _day(review.closed_at)],
            ["Outcome for undecided items", review.outcome or ""],
            ["Counts", ", ".join(f"{k} {v}" for k, v in tally.items())]]


def build(reader, review: AccessReview, fmt: str | None) -> tuple[str, str, bytes]:
    """(filename, mimetype, body); records ``report.generated`` in the caller's transaction."""
    fmt = check_format(fmt)
    audit.record("report.generated", reader, review, review.lea,
                 {"report": "access_review", "format": fmt, "review": review.id})
    name = f"access-review-{review.id}-{review.lea.code}-{review.application}-{review.period}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in rows(review):
            writer.writerow([_cell(v) for v in row])
        return name, FORMATS[fmt], out.getvalue().encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.styles import Font
    book = Workbook()
    sheet = book.active
    sheet.title = "Items"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows(review):
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    about = book.create_sheet("Review")
    for line in _heading(review):
        about.append([_cell(v) for v in line])
    body = io.BytesIO()
    book.save(body)
    return name, FORMATS[fmt], body.getvalue()
