"""The fictional demo state for ``edlink seed-demo`` (idempotent).

Every name here is an invented place or a role label ("Demo Teacher"); no real people.
"""
from __future__ import annotations

from flask import Flask, current_app

from edlink.extensions import db
from edlink.linking import link_account
from edlink.orgs import get_org, import_orgs
from edlink.staff import Actor, import_staff
from edlink.users import create_local_user, find_local_user

DEMO_PASSWORD = "demo-pass-2026"

ORGS_CSV = """code,name,kind,parent_code,served_by_code
DS,Demo State Department of Education,state,,
101,Pinecrest Parish School System,lea,DS,
102,Harbor City Schools,lea,DS,
103,Oakmoor Parish Schools,lea,DS,
101001,Pinecrest High School,school,101,
101002,Pinecrest Elementary School,school,101,
102001,Harbor City Middle School,school,102,
102002,Harbor City Elementary School,school,102,
103001,Oakmoor Elementary School,school,103,
NP1011,Lakeside Academy (nonpublic),nonpublic,DS,101
EC1012,Little Acorns Early Learning Center,early_childhood,DS,101
"""

# staff_id,employee_number,first,last,email,lea,sites,type,status,username
STAFF = [
    ("1000000001", "20000001", "Demo", "New Staff", "101", "101001", "Teacher", "active", "newstaff"),
    ("1000000002", "20000002", "Demo", "Teacher", "101", "101002", "Teacher", "active", "teacher"),
    ("1000000003", "20000003", "Demo", "Coordinator", "101", "", "Administrator", "active", "coordinator"),
    ("1000000004", "20000004", "Demo", "Supervisor", "101", "", "Special Education Supervisor", "active", "supervisor"),
    ("1000000005", "20000005", "Demo", "Data Manager", "101", "", "Data Manager", "active", "datamanager"),
    ("1000000006", "20000006", "Demo", "State Administrator", "DS", "", "State Staff", "active", "stateadmin"),
    ("1000000007", "20000007", "Demo", "Auditor", "DS", "", "State Staff", "active", "auditor"),
    ("1000000008", "20000008", "Demo", "Pending Hire", "101", "101001", "Teacher", "pending_hr", ""),
    ("1000000009", "20000009", "Demo", "On Leave", "101", "101002", "Paraprofessional", "leave", ""),
    ("1000000010", "20000010", "Demo", "Former Employee", "101", "101001", "Teacher", "terminated", ""),
    ("1000000011", "20000011", "Demo", "Harbor Teacher", "102", "102001", "Teacher", "active", ""),
    ("1000000012", "20000012", "Demo", "Harbor Coordinator", "102", "", "Administrator", "active", ""),
    ("1000000013", "20000013", "Demo", "Oakmoor Teacher", "103", "103001", "Teacher", "active", ""),
    ("1000000014", "20000014", "Demo", "Oakmoor Counselor", "103", "103001", "Counselor", "pending_hr", ""),
]

# the SER personas' staff records (seeded with the full demo: `edlink seed-demo`)
SER_STAFF = [
    ("1000000015", "20000015", "Demo", "SER Reader", "101", "", "Special Education Teacher", "active", "serreader"),
    ("1000000016", "20000016", "Demo", "SER Writer", "101", "", "Special Education Coordinator", "active", "serwriter"),
    ("1000000017", "20000017", "Demo", "Secure ID Manager", "101", "", "Data Manager", "active", "secureid"),
    ("1000000018", "20000018", "Demo", "Harbor SER Writer", "102", "", "Special Education Coordinator", "active",
     "harborwriter"),
    ("1000000019", "20000019", "Demo", "IEP Writer", "101", "", "Special Education Teacher", "active", "iepwriter"),
    ("1000000020", "20000020", "Demo", "IEP Submitter", "101", "", "Special Education Coordinator", "active",
     "iepsubmitter"),
]

# username, who, linked, (role, org) grants
PERSONAS = [
    ("newstaff", "staff member, not yet linked (username already on the staff record)", False, []),
    ("teacher", "teacher, linked", True, []),
    ("coordinator", "security coordinator, Pinecrest Parish (101)", True,
     [("edlink.security_coordinator", "101")]),
    ("supervisor", "special-education supervisor, Pinecrest Parish (101)", True,
     [("eser.sped_supervisor", "101")]),
    ("datamanager", "data manager, Pinecrest Parish (101)", True, [("edlink.data_manager", "101")]),
    ("stateadmin", "state administrator", True, [("edlink.state_admin", "DS")]),
    ("auditor", "state auditor", True, [("edlink.auditor", "DS")]),
]

SER_PERSONAS = [
    ("serreader", "SER Data Reader, Pinecrest Parish (101)", True, [("eser.reader", "101")]),
    ("serwriter", "SER Data Writer, Pinecrest Parish (101)", True, [("eser.writer", "101")]),
    ("secureid", "SER Secure ID Manager, Pinecrest Parish (101)", True, [("eser.secure_id", "101")]),
    ("harborwriter", "SER Data Writer, Harbor City Schools (102)", True, [("eser.writer", "102")]),
    ("iepwriter", "IEP Forms and SER Data Writer, Pinecrest Parish (101); cannot submit", True,
     [("eser.writer", "101"), ("eser.iep_forms", "101")]),
    ("iepsubmitter", "IEP Forms, Submit IEP to SER and SER Data Writer, Pinecrest Parish (101)", True,
     [("eser.writer", "101"), ("eser.iep_forms", "101"), ("eser.iep_submit", "101")]),
]
# IEP Forms needs a signed confidentiality statement: these personas have signed the demo's
SIGNED = ("iepwriter", "iepsubmitter")

DEMO_LOGINS = [(username, DEMO_PASSWORD, who) for username, who, _, _ in PERSONAS]
SER_DEMO_LOGINS = [(username, DEMO_PASSWORD, who) for username, who, _, _ in SER_PERSONAS]


SEEDERS = "edlink.demo.seeders"


def add_demo_seeder(app: Flask, seeder) -> None:
    """Packages above edlink add their own demo data (``seeder()`` returns a summary line), run
    by ``edlink seed-demo`` after the orgs, staff, personas and grants."""
    app.extensions.setdefault(SEEDERS, []).append(seeder)


def staff_csv(rows: list | None = None) -> str:
    head = "staff_id,employee_number,first_name,last_name,email,lea_code,site_codes,staff_type,status,username\n"
    lines = [f"{sid},{emp},{first},{last},{(user or sid) + '@demo.example'},{lea},{sites},{kind},{status},{user}"
             for sid, emp, first, last, lea, sites, kind, status, user in (STAFF if rows is None else rows)]
    return head + "\n".join(lines) + "\n"


STATEMENT = ("2026-1", "Confidentiality of student records",
             "I will look at student records only when my work needs it, share them only with people "
             "entitled to see them, keep my password to myself, and report any disclosure I notice at once. "
             "I understand that my use of these systems is recorded and reviewed.")


def seed(full: bool = False) -> str:
    """The demo state. ``full`` (``edlink seed-demo``) adds the SER personas and what packages
    add with :func:`add_demo_seeder` (SER's registry and students); tests build on the core."""
    from roles.grants import create_grant
    from roles.models import Grant
    from workflows import attestations

    staff_rows = STAFF + (SER_STAFF if full else [])
    orgs = import_orgs(ORGS_CSV, actor="system:demo")
    staff = import_staff(staff_csv(staff_rows), Actor("system:demo", "demo"))
    made_users = made_links = made_grants = 0
    for username, _who, linked, grants in PERSONAS + (SER_PERSONAS if full else []):
        user = find_local_user(username)
        if user is None:
            record = next(s for s in staff_rows if s[8] == username)
            user = create_local_user(username, DEMO_PASSWORD, email=f"{username}@demo.example",
                                     name=f"{record[2]} {record[3]}", actor="system:demo")
            made_users += 1
        if linked and user.active_link is None:
            link_account(user, next(s[0] for s in staff_rows if s[8] == username))
            made_links += 1
        for role, org_code in grants:
            org = get_org(org_code)
            held = db.session.execute(db.select(Grant).where(
                Grant.user_id == user.id, Grant.role_code == role, Grant.org_id == org.id,
                Grant.status == "active")).scalars().first()
            if held is None:
                create_grant(user, role, org, source="demo", granted_by=None, actor="system:demo")
                made_grants += 1
    if attestations.current_statement() is None:
        attestations.publish(*STATEMENT, None, actor="system:demo")
    for username in SIGNED if full else ():
        user = find_local_user(username)
        if not attestations.is_current(user):
            attestations.sign(user, attestations.current_statement().version)
    summary = (f"demo state: orgs {orgs.summary()}, staff {staff.summary()}, "
               f"users created {made_users}, links made {made_links}, grants made {made_grants}")
    for seeder in current_app.extensions.get(SEEDERS, ()) if full else ():
        summary += f"; {seeder()}"
    return summary
