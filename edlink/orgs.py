"""The organisation tree: import, lookup, and what a grant at an org covers."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import or_

import audit
from edlink.csvio import ImportRejected, ImportResult, RowError, read_rows
from edlink.errors import NotFound
from edlink.extensions import db
from edlink.models import ORG_KINDS, Org, bump_epoch

ORG_COLUMNS = ["code", "name", "kind", "parent_code", "served_by_code"]
# kind -> kinds its parent may be (None: no parent)
PARENT_KINDS = {
    "state": (None,),
    "lea": ("state",),
    "school": ("lea",),
    "nonpublic": ("state", "lea", None),
    "early_childhood": ("state", "lea", None),
}


def get_org(code: str) -> Org:
    org = db.session.execute(db.select(Org).where(Org.code == code)).scalar_one_or_none()
    if org is None:
        raise NotFound("unknown_org", f"No organisation has the code {code!r}.")
    return org


def find_org(code: str | None) -> Org | None:
    if not code:
        return None
    return db.session.execute(db.select(Org).where(Org.code == code)).scalar_one_or_none()


def state_org() -> Org | None:
    return db.session.execute(db.select(Org).where(Org.kind == "state")).scalars().first()


def covered_org_ids(org: Org) -> set[int]:
    """Every org a grant at ``org`` covers.

    The state covers everything; an LEA covers itself, its schools, and the nonpublic schools
    and early-childhood centres it serves; a site covers itself. Computed as the closure over
    "is served by" (for served sites) or else "is a child of", so a deeper tree still answers
    correctly and the answer agrees with :func:`covers` and ``Org.lea``.
    """
    rows = db.session.execute(db.select(Org.id, Org.parent_id, Org.served_by_id)).all()
    under: dict[int, list[int]] = defaultdict(list)
    for org_id, parent_id, served_by_id in rows:
        # a site served by an LEA is grouped under that LEA alone (as Org.lea says), even when
        # its administrative parent is another LEA
        group = served_by_id if served_by_id is not None else parent_id
        if group is not None:
            under[group].append(org_id)
    covered, todo = {org.id}, [org.id]
    while todo:
        for child in under.get(todo.pop(), ()):
            if child not in covered:
                covered.add(child)
                todo.append(child)
    return covered


def covers(grant_org: Org, target: Org) -> bool:
    """Does a grant at ``grant_org`` reach ``target``? (Same rule as covered_org_ids.)"""
    if grant_org.id == target.id or grant_org.kind == "state":
        return True
    if grant_org.kind == "lea":
        return target.lea is not None and target.lea.id == grant_org.id
    return False


def orgs_for_codes(codes: list[str]) -> list[Org]:
    return list(db.session.execute(db.select(Org).where(Org.code.in_(codes))).scalars())


def list_orgs(kind: str | None = None, under: Org | None = None) -> list[Org]:
    query = db.select(Org).order_by(Org.kind != "state", Org.code)
    if kind:
        query = query.where(Org.kind == kind)
    if under is not None:
        query = query.where(or_(Org.parent_id == under.id, Org.served_by_id == under.id))
    return list(db.session.execute(query).scalars())


def import_orgs(data: str | bytes, actor=None) -> ImportResult:
    """Create or update orgs from CSV (``code,name,kind,parent_code,served_by_code``)."""
    rows = read_rows(data, ORG_COLUMNS, required=["code", "name", "kind"])
    existing = {o.code: o for o in db.session.execute(db.select(Org)).scalars()}
    in_file: dict[str, dict[str, str]] = {}
    errors: list[RowError] = []
    for line, row in rows:
        if "__error__" in row:
            errors.append(RowError(line, row["__error__"], row.get("code", "")))
            continue
        code = row["code"]
        if not code or not row["name"]:
            errors.append(RowError(line, "code and name are required", code))
        elif row["kind"] not in ORG_KINDS:
            errors.append(RowError(line, f"unknown kind {row['kind']!r} (one of: {', '.join(ORG_KINDS)})", code))
        elif code in in_file:
            errors.append(RowError(line, f"code {code} appears twice in the file", code))
        else:
            in_file[code] = {**row, "line": str(line)}
    kinds = {c: o.kind for c, o in existing.items()} | {c: r["kind"] for c, r in in_file.items()}
    for code, row in in_file.items():
        line, kind = int(row["line"]), row["kind"]
        parent, served = row.get("parent_code", ""), row.get("served_by_code", "")
        if parent and parent not in kinds:
            errors.append(RowError(line, f"unknown parent_code {parent}", code))
        elif (kinds.get(parent) if parent else None) not in PARENT_KINDS[kind]:
            wanted = " or ".join(k or "none" for k in PARENT_KINDS[kind])
            errors.append(RowError(line, f"a {kind}'s parent must be {wanted}", code))
        elif served and kind not in ("nonpublic", "early_childhood"):
            errors.append(RowError(
                line, "only nonpublic schools and early-childhood centres have served_by_code", code))
        elif kind in ("nonpublic", "early_childhood") and not served and kinds.get(parent) != "lea":
            errors.append(RowError(line, "served_by_code (the LEA that serves it) is required", code))
        elif served and kinds.get(served) != "lea":
            errors.append(RowError(line, f"served_by_code {served} is not an LEA", code))
    states = [c for c, o in existing.items() if o.kind == "state" and c not in in_file] + [
        c for c, r in in_file.items() if r["kind"] == "state"]
    if len(states) > 1:  # name the file's state rows, not a line 0
        for code, row in in_file.items():
            if row["kind"] == "state":
                others = ", ".join(s for s in states if s != code)
                errors.append(RowError(int(row["line"]),
                                       f"there can be only one state org ({others} is one)", code))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line), "organisation file")

    result = ImportResult()
    moves: dict[str, dict[str, list[str | None]]] = {}  # code -> {"parent"|"served_by": [from, to]}
    code_of = {o.id: c for c, o in existing.items()}
    for code, row in in_file.items():  # create first so references inside the file resolve
        if code not in existing:
            existing[code] = Org(code=code, name=row["name"], kind=row["kind"])
            db.session.add(existing[code])
            result.created.append(code)
    db.session.flush()
    for code, row in in_file.items():
        org = existing[code]
        parent = existing.get(row.get("parent_code", "")) if row.get("parent_code") else None
        served = existing.get(row.get("served_by_code", "")) if row.get("served_by_code") else None
        if served is None and org.kind in ("nonpublic", "early_childhood") and parent and parent.kind == "lea":
            served = parent
        new = (row["name"], row["kind"], parent.id if parent else None, served.id if served else None)
        old = (org.name, org.kind, org.parent_id, org.served_by_id)
        if new != old:
            if code not in result.created:  # kept in the event so history can rebuild the tree
                move = {key: [code_of.get(before), after.code if after else None]
                        for key, before, after in (("parent", old[2], parent), ("served_by", old[3], served))
                        if before != (after.id if after else None)}
                if move:
                    moves[code] = move
            org.name, org.kind, org.parent_id, org.served_by_id = new
            if code not in result.created:
                result.updated.append(code)
        elif code not in result.created:
            result.unchanged.append(code)
    db.session.flush()
    if result.created or result.updated:
        bump_epoch()  # every process rebuilds its copy of the tree on its next check
    audit.record("orgs.imported", actor, ("org_import", None), state_org(),
                 {**result.summary(), "created": result.created, "updated": result.updated,
                  **({"moves": moves} if moves else {})})
    return result
