"""``grants.expire``: grants with an end date expire on it, with a notice some days before.

Idempotent: a grant past its end becomes expired once (roles.grants.expire_due); a grant ending
within ``EDLINK_GRANT_EXPIRY_NOTICE_DAYS`` (default 7) gets one ``grant.expiring`` notice, ever
(the notice links to the grant, which is how a later run knows it was sent).
"""
from __future__ import annotations

import datetime as _dt

from flask import current_app

import notifications
from edlink import clock
from edlink.extensions import db
from notifications.models import Notification
from roles.catalog import load
from roles.grants import expire_due
from roles.models import Grant


def notice_days() -> int:
    return int(current_app.config["GRANT_EXPIRY_NOTICE_DAYS"])


def notify_expiring(now: _dt.datetime | None = None) -> int:
    """Tell the holders of grants ending within the notice period (once per grant)."""
    now = now or clock.now()
    soon = db.session.execute(db.select(Grant).where(
        Grant.status.in_(("active", "suspended")), Grant.ends_at.is_not(None), Grant.ends_at > now,
        Grant.ends_at <= now + _dt.timedelta(days=notice_days())).order_by(Grant.id)).scalars().all()
    if not soon:
        return 0
    links = {f"/grants/{g.id}": g for g in soon}
    told = set(db.session.execute(db.select(Notification.link).where(
        Notification.event == "grant.expiring", Notification.link.in_(list(links)))).scalars())
    catalog = load()
    sent = 0
    for link, grant in links.items():
        if link in told:
            continue
        notifications.notify([grant.user], "grant.expiring",
                             {"role": catalog.name_of(grant.role_code), "org": grant.org.name,
                              "expires_on": grant.ends_at}, link=link)
        sent += 1
    return sent


def run() -> dict:
    """The ``grants.expire`` job: expire what has ended, warn about what ends soon."""
    return {"expired": len(expire_due()), "expiring_notices": notify_expiring()}
