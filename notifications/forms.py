"""Page forms of the notification centre (every form carries its CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField


class EmptyForm(FlaskForm):
    """A button that only needs its CSRF token (mark read, mark all read, retry)."""


class PreferencesForm(FlaskForm):
    digest_action_needed = BooleanField("Send me one daily digest of action-needed messages instead of one e-mail each")
    submit = SubmitField("Save preferences")
