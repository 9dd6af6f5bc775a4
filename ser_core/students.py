"""Adding a student from the state registry, the profile's editable fields, and the Secure ID
update (compare SER's PII with the registry's, then save the registry's to SER)."""
from __future__ import annotations

import re

from edlink.errors import Conflict, Invalid
from edlink.extensions import db
from edlink.models import Org, User
from roles import gate
from ser_core import registry
from ser_core.access import SECURE_ID, WRITE, event, find_student, org_of, touch
from ser_core.models import PII_FIELDS, SerStudent

# the profile fields SER users may edit (demographics come from the registry and are read-only)
PROFILE_FIELDS = {"primary_language": ("Primary Language", 60), "address": ("Address", 200),
                  "city": ("City", 100), "zip_code": ("Zip Code", 10), "phone": ("Phone", 20)}
ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")
PHONE_RE = re.compile(r"^[0-9()+.\- ]{7,20}$")


def already_in_ser_message(student: SerStudent) -> str:
    where = f"{student.lea.name} ({student.lea.code})"
    return (f"Student {student.state_id} is already in SER"
            + (f", under the jurisdiction of {where}." if student.jurisdiction_open else f"; {where} had it last.")
            + " Claim jurisdiction for the student instead of adding it again.")


def home_of(user: User, lea_code: str | None = None) -> tuple[Org, Org | None]:
    """The LEA (and, for a writer at one site only, the site) a new student starts under:
    the writer's own. ``lea_code`` chooses when the writer holds the permission at several."""
    ids = gate.orgs_with(WRITE, user)
    if not ids:
        gate.require(WRITE, None, user)
    orgs = db.session.execute(db.select(Org).where(Org.id.in_(sorted(ids)))).scalars().all()
    leas = [o for o in orgs if o.kind == "lea"]
    if lea_code:
        lea = next((o for o in leas if o.code == lea_code), None)
        if lea is None:
            site_leas = {o.lea.code: o.lea for o in orgs if o.is_site and o.lea is not None}
            if lea_code not in site_leas:
                gate.require(WRITE, lea_code, user)
                raise Invalid("unknown_lea", f"{lea_code} is not an LEA.", fields={"lea_code": ["not an LEA"]})
            lea = site_leas[lea_code]
        sites = [o for o in orgs if o.is_site and o.lea is not None and o.lea.id == lea.id]
        return lea, (sites[0] if lea not in leas and len(sites) == 1 else None)
    if len(leas) == 1:
        return leas[0], None
    if not leas:
        sites = [o for o in orgs if o.is_site and o.lea is not None]
        if len({s.lea.id for s in sites}) == 1:
            return sites[0].lea, (sites[0] if len(sites) == 1 else None)
    raise Invalid("lea_required", "You are a Data Writer for more than one LEA: choose the LEA.",
                  fields={"lea_code": ["required"]})


def add_student(state_id: str, user: User, lea_code: str | None = None, profile: dict | None = None) -> SerStudent:
    """Create the SER student from the registry entry with that State ID, under the writer's LEA."""
    entry = registry.get(state_id)
    lea, site = home_of(user, lea_code)
    gate.require(WRITE, site or lea, user)
    existing = find_student(entry.state_id)
    if existing is not None:
        raise Conflict("already_in_ser", already_in_ser_message(existing),
                       fields={"lea": existing.lea.code, "jurisdiction_open": existing.jurisdiction_open})
    values = _profile_values(profile or {})
    student = SerStudent(state_id=entry.state_id, lea=lea, site=site, jurisdiction_open=False,
                         created_by_id=user.id, **entry.pii(), **values)
    db.session.add(student)
    db.session.flush()
    event("ser.student.created", user, student, {"lea": lea.code, "site": site.code if site else None,
                                                 "pii": entry.pii()})
    return student


def _profile_values(values: dict) -> dict:
    out, fields = {}, {}
    for name, (label, size) in PROFILE_FIELDS.items():
        if name not in values:
            continue
        value = (values[name] or "").strip()
        if len(value) > size:
            fields[name] = [f"{label} is at most {size} characters."]
        elif name == "zip_code" and value and not ZIP_RE.match(value):
            fields[name] = ["Zip Code is 5 digits (or 5+4)."]
        elif name == "phone" and value and not PHONE_RE.match(value):
            fields[name] = ["Phone is a telephone number (digits, spaces, dashes, parentheses)."]
        out[name] = value
    if fields:
        raise Invalid("invalid_profile", " ".join(m for ms in fields.values() for m in ms), fields=fields)
    return out


def update_profile(student: SerStudent, values: dict, user: User) -> dict:
    """Save the editable profile fields; returns what changed (field: [old, new])."""
    gate.require(WRITE, org_of(student), user)
    demographics = sorted(set(values) & set(PII_FIELDS))
    if demographics:
        raise Invalid("read_only", "Demographic information cannot be edited in SER. Any corrections needed "
                      "should be made in eScholar.", fields={name: ["read-only"] for name in demographics})
    unknown = sorted(set(values) - set(PROFILE_FIELDS))
    if unknown:
        raise Invalid("unknown_field", f"The profile has no field {', '.join(unknown)}.",
                      fields={name: ["unknown field"] for name in unknown})
    changed = {}
    for name, value in _profile_values(values).items():
        if getattr(student, name) != value:
            changed[name] = [getattr(student, name), value]
            setattr(student, name, value)
    if changed:
        touch(student)
        db.session.flush()
        event("ser.student.changed", user, student, {"changed": changed})
    return changed


def compare_pii(student: SerStudent, state_id: str) -> tuple[dict, dict, str]:
    """Modify State ID/PII data: SER's PII beside the registry's for ``state_id`` (Find)."""
    entry = registry.get(state_id)
    return {"state_id": student.state_id, **student.pii()}, {"state_id": entry.state_id, **entry.pii()}, entry.state_id


def save_registry_pii(student: SerStudent, state_id: str, user: User) -> SerStudent:
    """Save eScholar PII to SER: assign or update the student's Secure ID and copy the
    registry's PII for it. Only Secure ID Managers (eser.secure_id.assign)."""
    gate.require(SECURE_ID, org_of(student), user)
    entry = registry.get(state_id)
    other = find_student(entry.state_id)
    if other is not None and other.id != student.id:
        raise Conflict("state_id_in_use", f"State ID {entry.state_id} already belongs to another student in SER "
                       f"({other.sort_name}). Check the student's active Secure ID with your LEA's Secure ID manager.",
                       fields={"state_id": ["in use"]})
    before = {"state_id": student.state_id, **student.pii()}
    student.state_id = entry.state_id
    for name, value in entry.pii().items():
        setattr(student, name, value)
    after = {"state_id": student.state_id, **student.pii()}
    touch(student)
    db.session.flush()
    event("ser.secure_id.updated", user, student, {"before": before, "after": after,
                                                   "changed": sorted(k for k in after if after[k] != before[k])})
    return student
