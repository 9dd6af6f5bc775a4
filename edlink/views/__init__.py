"""The edlink pages: sign-in, account, linking, tokens and the staff directory."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("edlink", __name__)

from edlink.views import account, auth, jobs, staff  # noqa: E402,F401  (routes register on bp)
