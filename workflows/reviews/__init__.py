"""Access reviews (certification campaigns): per school system and application, on a recurrence
or started by a coordinator; reviewers certify or revoke each grant; at the deadline the
undecided get the configured outcome, unless that would remove too much (then the review is
held for the state administrators). See README "Access reviews"."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check the REVIEW_* settings and register the ``reviews.launch`` and ``reviews.deadlines`` jobs."""
    from edlink import jobs
    from workflows.reviews import campaign, deadlines, models, settings  # noqa: F401  (models: metadata)

    settings.check(app)
    jobs.register(app, "reviews.launch", campaign.launch)
    jobs.register(app, "reviews.deadlines", deadlines.run)
