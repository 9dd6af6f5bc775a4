"""The turnaround report: per school system (LEA) and approval stage, how fast requests are decided.

Registered with audit's report registry by workflows (audit may not import workflows; the rows
come from the request tables here). Per LEA whose approvers decide (requests without an LEA
approver are the state's) and stage (position and approver role):

- Decided: stages approved or denied within the period (``since`` to ``until``, by decision time);
- Median / 90th Percentile Business Days: from the stage opening to its decision, counted in
  business days by the calendar (edlink.calendar) (EDLINK_TIMEZONE, EDLINK_HOLIDAYS) as deadlines are;
  the 90th percentile by nearest rank;
- Decided Late: of those, decided after the stage's deadline;
- Open Overdue: stages open now and past their deadline (whatever the period);
- Escalations: stages escalated to the state administrators within the period.

Scope: requests for orgs in the reader's report scope (``org``: an LEA or site; an LEA
includes its schools and served sites).
"""
from __future__ import annotations

import datetime as _dt
import math
import statistics
from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import or_, select

from audit.reports.registry import Field, Prepared, ReportKind, text_arg
from audit.reports.scope import report_scope
from edlink import clock
from edlink.calendar import calendar
from edlink.errors import Invalid
from edlink.extensions import db
from edlink.models import Org
from workflows.models import AccessRequest, RequestStage

COLUMNS = ("LEA Code", "LEA Name", "Stage", "Approver Role", "Decided", "Approved", "Denied",
           "Median Business Days", "90th Percentile Business Days", "Decided Late", "Open Overdue", "Escalations")


def _day(args: Mapping[str, str], name: str) -> str | None:
    raw = text_arg(args, name)
    if raw is None:
        return None
    try:
        return _dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        raise Invalid("bad_filter", f"{name} must be a date (YYYY-MM-DD), not {raw!r}.",
                      fields={name: ["not a date"]}) from None


def parse(args: Mapping[str, str]) -> dict:
    params = {"org": text_arg(args, "org"), "since": _day(args, "since"), "until": _day(args, "until")}
    if params["since"] and params["until"] and params["until"] < params["since"]:
        raise Invalid("bad_filter", "until is before since.", fields={"until": ["before since"]})
    return params


def _bounds(params: dict) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    """The period in the state's time zone: from the start of ``since`` to the end of ``until``."""
    cal = calendar()
    start = end = None
    if params.get("since"):
        start = cal.end_of(_dt.date.fromisoformat(params["since"]) - _dt.timedelta(days=1))
    if params.get("until"):
        end = cal.end_of(_dt.date.fromisoformat(params["until"]))
    return start, end


def nearest_rank(values: list[int], pct: float) -> int:
    ordered = sorted(values)
    return ordered[max(math.ceil(pct * len(ordered)) - 1, 0)]


def _median(values: list[int]) -> float | int | None:
    if not values:
        return None
    middle = statistics.median(values)
    return int(middle) if middle == int(middle) else middle


def _within(when: _dt.datetime | None, start, end) -> bool:
    return when is not None and (start is None or when >= start) and (end is None or when < end)


def prepare(user, params: dict) -> Prepared:
    from roles.catalog import load
    ids, label = report_scope(user, params.get("org"))
    start, end = _bounds(params)
    now = clock.now()
    cal = calendar()
    q = (select(RequestStage.position, RequestStage.approver_role, RequestStage.status, RequestStage.opened_at,
                RequestStage.decided_at, RequestStage.due_at, RequestStage.escalated_at, AccessRequest.lea_id)
         .join(AccessRequest, AccessRequest.id == RequestStage.request_id)
         .where(AccessRequest.org_id.in_(sorted(ids)), RequestStage.opened_at.is_not(None)))
    if start is not None:  # stages decided or escalated before the period, and closed, do not count
        q = q.where(or_(RequestStage.status == "open", RequestStage.decided_at >= start,
                        RequestStage.escalated_at >= start))
    groups: dict[tuple, dict] = defaultdict(lambda: {"days": [], "approved": 0, "denied": 0, "late": 0,
                                                     "overdue": 0, "escalations": 0})
    for position, role, status, opened, decided, due, escalated, lea_id in db.session.execute(q):
        g = groups[(lea_id, position, role)]
        if status in ("approved", "denied") and _within(decided, start, end):
            g[status] += 1
            g["days"].append(cal.business_days_between(opened, decided))
            if due is not None and decided > due:
                g["late"] += 1
        if status == "open" and due is not None and due <= now:
            g["overdue"] += 1
        if _within(escalated, start, end):
            g["escalations"] += 1
    orgs = {o.id: o for o in db.session.execute(select(Org).where(
        or_(Org.id.in_([k[0] for k in groups if k[0] is not None]), Org.kind == "state"))).scalars()}
    state = next((o for o in orgs.values() if o.kind == "state"), None)
    catalog = load()
    rows = []
    for (lea_id, position, role), g in groups.items():
        if not (g["days"] or g["overdue"] or g["escalations"]):
            continue
        lea = orgs.get(lea_id) if lea_id is not None else state
        days = g["days"]
        rows.append((lea.code if lea else "", lea.name if lea else "State", position, catalog.name_of(role),
                     len(days), g["approved"], g["denied"],
                     _median(days), nearest_rank(days, 0.9) if days else None,
                     g["late"], g["overdue"], g["escalations"]))
    rows.sort(key=lambda r: (r[0], r[2], r[3]))
    period = f"{params.get('since') or 'the start'} to {params.get('until') or 'today'}"
    return Prepared(scope=f"{label}, decisions from {period}", count=len(rows), rows=rows, org=params.get("org"))


KIND = ReportKind(
    code="turnaround", title="Request Turnaround", columns=COLUMNS, parse=parse, prepare=prepare,
    widths={"LEA Name": 30, "Approver Role": 28, "Median Business Days": 12, "90th Percentile Business Days": 14},
    fields=(Field("org", "Organisation code", help="An LEA, or empty for everything you may report on."),
            Field("since", "Decided from", help="A date (YYYY-MM-DD), in the state's time zone."),
            Field("until", "Decided until", help="A date, inclusive.")),
    description="Per school system and approval stage: requests decided, the median and 90th percentile of "
                "business days to decision, late decisions, stages overdue now, and escalations.")


def init_app(app) -> None:
    from audit.reports.registry import register
    register(app, KIND)
