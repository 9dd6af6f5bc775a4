"""Parent/guardian information (title and suffix optional). Saving the first one opens the
student's remaining options."""
from __future__ import annotations

import re

from sqlalchemy import func

from edlink import clock
from edlink.errors import Conflict, Invalid, NotFound
from edlink.extensions import db
from edlink.models import User
from roles import gate
from ser_core.access import WRITE, event, org_of, touch
from ser_core.models import Guardian, SerStudent
from ser_core.presenters import guardian_view

TITLES = ("Mr.", "Mrs.", "Ms.", "Miss", "Dr.")
SUFFIXES = ("Jr.", "Sr.", "II", "III", "IV")
RELATIONSHIPS = ("Mother", "Father", "Legal Guardian", "Grandparent", "Foster Parent", "Surrogate Parent",
                 "Adult Student", "Other")
# field: (label, required, max length)
FIELDS = {"title": ("Title", False, 20), "first_name": ("First Name", True, 100),
          "last_name": ("Last Name", True, 100), "suffix": ("Suffix", False, 20),
          "relationship": ("Relationship", True, 40), "address": ("Address", False, 200),
          "city": ("City", False, 100), "state": ("State", False, 2), "zip_code": ("Zip Code", False, 10),
          "phone": ("Phone", False, 20), "email": ("E-mail", False, 254)}
ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")
PHONE_RE = re.compile(r"^[0-9()+.\- ]{7,20}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHOICES = {"title": TITLES, "suffix": SUFFIXES, "relationship": RELATIONSHIPS}


def has_guardian(student: SerStudent) -> bool:
    return db.session.execute(db.select(func.count()).select_from(Guardian)
                              .where(Guardian.student_id == student.id)).scalar_one() > 0


def require_guardian(student: SerStudent) -> None:
    """The remaining Student Options open once parent/guardian information is saved."""
    if not has_guardian(student):
        raise Conflict("guardian_required", "Save the parent/guardian information first: the remaining "
                       "options become available after it is saved.")


def guardians(student: SerStudent) -> list[Guardian]:
    return list(db.session.execute(db.select(Guardian).where(Guardian.student_id == student.id)
                                   .order_by(Guardian.id)).scalars())


def get_guardian(student: SerStudent, guardian_id: int) -> Guardian:
    guardian = db.session.get(Guardian, guardian_id)
    if guardian is None or guardian.student_id != student.id:
        raise NotFound("guardian_not_found", "This student has no such parent/guardian record.")
    return guardian


def _clean(values: dict) -> dict:
    out, fields = {}, {}
    for name, (label, required, size) in FIELDS.items():
        value = (values.get(name) or "").strip()
        if name == "state":
            value = value.upper()
        if required and not value:
            fields[name] = [f"{label} is required."]
        elif len(value) > size:
            fields[name] = [f"{label} is at most {size} characters."]
        elif value and name in CHOICES and value not in CHOICES[name]:
            fields[name] = [f"{label} must be one of: {', '.join(CHOICES[name])}."]
        elif value and name == "zip_code" and not ZIP_RE.match(value):
            fields[name] = ["Zip Code is 5 digits (or 5+4)."]
        elif value and name == "phone" and not PHONE_RE.match(value):
            fields[name] = ["Phone is a telephone number (digits, spaces, dashes, parentheses)."]
        elif value and name == "email" and not EMAIL_RE.match(value):
            fields[name] = ["E-mail is not an e-mail address."]
        elif value and name == "state" and not re.match(r"^[A-Z]{2}$", value):
            fields[name] = ["State is the two-letter postal code."]
        out["relationship_" if name == "relationship" else name] = value
    if fields:
        raise Invalid("invalid_guardian", " ".join(m for ms in fields.values() for m in ms), fields=fields)
    return out


def save_guardian(student: SerStudent, values: dict, user: User, guardian: Guardian | None = None) -> Guardian:
    """Add a parent/guardian, or change one (``guardian``)."""
    gate.require(WRITE, org_of(student), user)
    clean = _clean(values)
    if guardian is None:
        guardian = Guardian(student_id=student.id, **clean)
        db.session.add(guardian)
        db.session.flush()
        action, details = "ser.guardian.added", {"guardian": guardian_view(guardian)}
    else:
        before = guardian_view(guardian)
        for name, value in clean.items():
            setattr(guardian, name, value)
        guardian.updated_at = clock.now()
        db.session.flush()
        after = guardian_view(guardian)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if not changed:
            return guardian
        action, details = "ser.guardian.changed", {"guardian_id": guardian.id, "changed": changed}
    touch(student)
    event(action, user, student, details)
    return guardian


def delete_guardian(student: SerStudent, guardian: Guardian, user: User) -> None:
    gate.require(WRITE, org_of(student), user)
    gone = guardian_view(guardian)
    db.session.delete(guardian)
    touch(student)
    db.session.flush()
    event("ser.guardian.removed", user, student, {"guardian": gone})
