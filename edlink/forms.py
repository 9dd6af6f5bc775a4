"""Page forms (Flask-WTF: every form carries its CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=150)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField("Sign in")


class LinkForm(FlaskForm):
    staff_id = StringField("Staff ID", validators=[DataRequired(), Length(max=20)],
                           description="The 10-digit staff ID your school system gave you.",
                           render_kw={"inputmode": "numeric", "autocomplete": "off"})
    submit = SubmitField("Link my account")


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=100)],
                       description="What the token is for, e.g. the script that uses it.")
    # InputRequired, not DataRequired: 0 is an answer (out of range), not a missing one
    expires_days = IntegerField("Expires after (days)", default=90,
                                validators=[InputRequired(), NumberRange(min=1, max=366)])
    submit = SubmitField("Create token")


class UsernameForm(FlaskForm):
    username = StringField("Identity username", validators=[Optional(), Length(max=150),
                                                            Regexp(r"^\S*$", message="No spaces.")],
                           description="Leave empty to clear it. Changing it ends the current link.")
    submit = SubmitField("Save username")


class StaffImportForm(FlaskForm):
    file = FileField("Staff file (CSV)", validators=[FileRequired()],
                     description="Columns: staff_id, employee_number, first_name, last_name, email, "
                                 "lea_code, site_codes, staff_type, status, username.")
    submit = SubmitField("Import")


class EmptyForm(FlaskForm):
    """A button that posts: only the CSRF token."""

    submit = SubmitField("Confirm")
