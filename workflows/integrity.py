"""The ``audit.verify`` job: verify the audit chain every night, alert state administrators when it fails.

It walks the whole trail (audit.verify). When the chain is intact it answers the count and the
head. When it is broken it notifies every state administrator (``audit.verify_failed``: where it
broke and what kind of break) and reports the run as failed, so the break is on the job-runs page
too; the alerts are kept (edlink.jobs.failed). It alerts again on every run until the trail is
repaired or a state administrator decides what to do.
"""
from __future__ import annotations

from typing import Any

from audit import audit_key
from audit.verify import verify
from edlink import jobs
from edlink.orgs import state_org
from notifications import notify
from workflows import routing


def verify_audit() -> Any:
    result = verify(audit_key())
    summary: dict[str, Any] = {"events_verified": result.count}
    if result.ok:
        summary["head_seq"] = result.head.seq if result.head else 0
        return summary
    admins = routing.holders(routing.STATE_ADMIN, state_org())
    notify(admins, "audit.verify_failed", {"bad_seq": result.bad_seq, "problem": result.problem,
                                           "message": result.message, "events": result.count},
           link="/audit/verify")
    summary.update(bad_seq=result.bad_seq, problem=result.problem, alerted=len(admins))
    return jobs.failed(result.line(), summary)
