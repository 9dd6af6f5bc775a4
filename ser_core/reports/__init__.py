"""SER reports, registered in audit's report registry so they run into My Reports (14 days) and
download as CSV and Excel: compliance (evaluation and IEP timelines, detail and summary),
re-evaluation management, rosters, Developmental Delay turning 9, IEP management, PST missing
and the SER/SIS exit cross-check."""
from __future__ import annotations


def init_app(app) -> None:
    from audit.reports.registry import register
    from ser_core.reports import compliance, crosscheck, management
    for kind in (*compliance.KINDS, *management.KINDS, *crosscheck.KINDS):
        register(app, kind)
