"""SER pages: search, the student profile with its option links, jurisdiction."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("ser", __name__, url_prefix="/ser", template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
