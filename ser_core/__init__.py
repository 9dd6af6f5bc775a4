"""SER: the embedded Special Education Reporting core, reached only through roles.gate."""
from __future__ import annotations

from flask import Flask

DEFAULTS = {
    "SER_ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,  # one attachment at most (10 MB)
    "SER_ATTACHMENT_TYPES": ["pdf", "doc", "docx", "xls", "xlsx", "txt", "rtf", "odt", "png", "jpg", "jpeg", "tif",
                             "tiff"],  # file name extensions accepted
    "SER_IEP_TIMELINE_DAYS": 30,  # calendar days from eligibility determination to the initial IEP meeting
    "SER_EVALUATION_TIMELINE_DAYS": 60,  # business days from parental consent to evaluation completion
    # SIS exit codes per exit kind the SER/SIS Exit Cross Check compares (set them to your SIS's codes)
    "SER_SIS_EXIT_CODES": {"HS Diploma (Regular Assessment)": ["01"],
                           "Moved Out of State/Known to be Continuing": ["09"],
                           "Certificate of Achievement/LHSD": ["04"], "Death": ["16"]},
}


def init_app(app: Flask) -> None:
    """Settings, models, pages (with their navigation entry) and the /api/v1/ser endpoints."""
    from edlink.config import ConfigError
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    try:
        size = int(app.config["SER_ATTACHMENT_MAX_BYTES"])
    except (TypeError, ValueError):
        size = 0
    if size < 1:
        raise ConfigError("EDLINK_SER_ATTACHMENT_MAX_BYTES must be a whole number of bytes, at least 1")
    app.config["SER_ATTACHMENT_MAX_BYTES"] = size
    types = app.config["SER_ATTACHMENT_TYPES"]
    if isinstance(types, str):
        types = types.replace(",", " ").split()
    types = sorted({str(t).lower().lstrip(".") for t in types if str(t).strip()})
    if not types:
        raise ConfigError("EDLINK_SER_ATTACHMENT_TYPES must name at least one file type, e.g. [\"pdf\"]")
    app.config["SER_ATTACHMENT_TYPES"] = types

    import ser_core.models  # noqa: F401
    import ser_core.models_iep  # noqa: F401
    from edlink.demo import add_demo_seeder
    from ser_core import demo, demo_ieps, views
    views.init_app(app)
    add_demo_seeder(app, demo.seed)
    add_demo_seeder(app, demo_ieps.seed)
    from ser_core import reports
    reports.init_app(app)
