"""Student search: quick (name, "last, first" or State ID), regular and advanced (date of birth,
gender, school code, show inactive), always inside the caller's jurisdiction scope."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_

from edlink import clock
from edlink.errors import Invalid
from edlink.extensions import db
from edlink.models import Org, User
from roles import gate
from ser_core.access import READ, find_student, in_scope, inactive_since, org_of
from ser_core.models import GENDERS, SerService, SerStudent
from ser_core.registry import STATE_ID_RE


@dataclass
class Criteria:
    q: str = ""
    first_name: str = ""
    last_name: str = ""
    state_id: str = ""
    dob: _dt.date | None = None
    gender: str = ""
    school: str = ""
    inactive: bool = False

    @classmethod
    def parse(cls, args) -> Criteria:
        """From query arguments (a page's form or the API); bad values are a 422 naming the field."""
        text = {k: (args.get(k) or "").strip() for k in ("q", "first_name", "last_name", "state_id",
                                                          "dob", "gender", "school", "inactive")}
        fields: dict[str, list[str]] = {}
        dob = None
        if text["dob"]:
            try:
                dob = _dt.date.fromisoformat(text["dob"])
            except ValueError:
                fields["dob"] = ["Date of Birth must be a date (YYYY-MM-DD)."]
        gender = text["gender"].upper()
        if gender and gender not in GENDERS:
            fields["gender"] = ["Gender is M or F."]
        if text["state_id"] and not STATE_ID_RE.match(text["state_id"]):
            fields["state_id"] = ["A State ID is 10 digits."]
        if fields:
            raise Invalid("invalid_search", " ".join(m for ms in fields.values() for m in ms), fields=fields)
        return cls(text["q"], text["first_name"], text["last_name"], text["state_id"], dob, gender,
                   text["school"], text["inactive"].lower() in ("1", "true", "yes", "on", "y"))

    @property
    def advanced(self) -> bool:
        return bool(self.dob or self.gender or self.school or self.inactive)

    @property
    def empty(self) -> bool:
        return not (self.q or self.first_name or self.last_name or self.state_id or self.dob
                    or self.gender or self.school)


def _starts(column, text: str):
    return func.lower(column).like(text.lower().replace("%", "").replace("_", "") + "%")


def _quick(q: str):
    """The quick-search box: a State ID, "last, first", "first last", or one name."""
    if STATE_ID_RE.match(q):
        return SerStudent.state_id == q
    if "," in q:
        last, first = (part.strip() for part in q.split(",", 1))
        return and_(*([_starts(SerStudent.last_name, last)] if last else []),
                    *([_starts(SerStudent.first_name, first)] if first else []))
    words = q.split()
    if len(words) >= 2:
        return and_(_starts(SerStudent.first_name, words[0]), _starts(SerStudent.last_name, words[-1]))
    return or_(_starts(SerStudent.last_name, q), _starts(SerStudent.first_name, q))


def open_services(on: _dt.date | None = None):
    """SQL: the student has services at its current LEA not ended before ``on`` (default today)."""
    on = on or clock.today()
    return exists().where(SerService.student_id == SerStudent.id, SerService.lea_id == SerStudent.lea_id,
                          or_(SerService.end_date.is_(None), SerService.end_date >= on))


def has_open_services(student: SerStudent) -> bool:
    """Does the student's current (or last) LEA have open services for it?"""
    return db.session.execute(db.select(SerStudent.id).where(SerStudent.id == student.id, open_services())
                              ).first() is not None


def _refuse_outside_scope(user: User, state_id: str) -> None:
    """Asking for one student by State ID outside one's scope is refused like opening it."""
    student = find_student(state_id)
    if student is not None:
        gate.require(READ, org_of(student), user)


def search(user: User, criteria: Criteria, page: int = 1, per_page: int = 25):
    """(rows, total): each row is (student, has open services), ordered by name."""
    gate.require(READ, None, user)  # somewhere at all
    for state_id in {criteria.state_id, criteria.q if STATE_ID_RE.match(criteria.q) else ""} - {""}:
        _refuse_outside_scope(user, state_id)
    query = db.select(SerStudent, open_services().label("open_services")).where(in_scope(READ, user))
    if criteria.q:
        query = query.where(_quick(criteria.q))
    if criteria.first_name:
        query = query.where(_starts(SerStudent.first_name, criteria.first_name))
    if criteria.last_name:
        query = query.where(_starts(SerStudent.last_name, criteria.last_name))
    if criteria.state_id:
        query = query.where(SerStudent.state_id == criteria.state_id)
    if criteria.dob:
        query = query.where(SerStudent.birth_date == criteria.dob)
    if criteria.gender:
        query = query.where(SerStudent.gender == criteria.gender)
    if criteria.school:
        query = query.where(SerStudent.site_id.in_(db.select(Org.id).where(Org.code == criteria.school)))
    if not criteria.inactive:
        query = query.where(SerStudent.record_updated_at > inactive_since())
    total = db.session.execute(db.select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(SerStudent.last_name, SerStudent.first_name, SerStudent.state_id)
                              .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return [(row[0], bool(row[1])) for row in rows], total
