"""Post-School Transition (PST): the exits in ser_core.exits.PST_REQUIRED owe an Initial Exit
survey and, one year after the exit, a One Year Exit Follow-up with the survey questions whose
answers give the Work Type (competitive integrated employment, the federal definition).

Exit data come first: the special education activity is closed with its exit date and reason.
A student who cannot be reached is answered "unable to contact". The PST Missing report
(ser_core.reports) lists what is owed; it must be blank.
"""
from __future__ import annotations

import datetime as _dt

from edlink import clock
from edlink.errors import Conflict, Invalid
from edlink.extensions import db
from edlink.models import User
from roles import gate
from ser_core import exits
from ser_core.access import WRITE, event, org_of, touch
from ser_core.activity import activities
from ser_core.dates import add_years
from ser_core.models import SerStudent
from ser_core.models_iep import PstSurvey, SpedActivity

KINDS = {"initial_exit": "Initial Exit", "one_year": "One Year Exit Follow-up"}
PLANS = ("Higher Education", "Competitive Integrated Employment", "Other Postsecondary Education or Training",
         "Other Employment", "Undecided")
ENROLLED = ("Yes, completed at least one term", "Yes, did not complete a term", "No")
YES_NO = ("Yes", "No")
# the One Year Exit Follow-up questions, in the survey's order: (name, question, answers)
QUESTIONS = (
    ("enrolled", "Since leaving high school, have you enrolled in a college, university, community college or "
                 "technical school?", ENROLLED),
    ("other_training", "Since leaving high school, have you taken part in another education or training program "
                       "(job training, Job Corps, adult education)?", YES_NO),
    ("worked", "Since leaving high school, have you worked?", YES_NO),
    ("worked_90_days", "Did you work for at least 90 days in a row?", YES_NO),
    ("hours_20", "Did you work on average 20 hours a week or more?", YES_NO),
    ("minimum_wage", "Were you paid at least minimum wage?", YES_NO),
    ("integrated", "Did you work where most workers do not have disabilities, with the same chances as they "
                   "have?", YES_NO),
)
UNANSWERED = "Answer every question of the survey, or enter “unable to contact”."


def _refuse(code: str, message: str, *names: str):
    raise Invalid(code, message, fields={name: [message] for name in names} or None)


def one_year_after(day: _dt.date) -> _dt.date:
    return add_years(day, 1)


def work_type(answers: dict) -> str:
    """The Work Type the answers give."""
    if answers.get("worked") != "Yes" or answers.get("worked_90_days") != "Yes":
        return "Not Employed"
    if all(answers.get(q) == "Yes" for q in ("hours_20", "minimum_wage", "integrated")):
        return "Competitive Integrated Employment"
    return "Other Employment"


def exited_activity(student: SerStudent) -> SpedActivity:
    """The latest closed activity, when its exit requires a PST (the rule's own messages otherwise)."""
    closed = [a for a in activities(student) if a.exit_date is not None]
    if not closed or any(a.exit_date is None for a in activities(student)):
        raise Conflict("exit_data_incomplete", "Exit data has to be complete before Post-School Transition data can "
                       "be entered: close the special education activity with its exit date and exit reason first.")
    activity = closed[0]
    if activity.exit_reason not in exits.PST_REQUIRED:
        raise Conflict("pst_not_required", f"The exit {activity.exit_reason} does not require a Post-School "
                       "Transition survey.")
    return activity


def record(student: SerStudent, kind: str, values: dict, user: User) -> PstSurvey:
    gate.require(WRITE, org_of(student), user)
    if kind not in KINDS:
        _refuse("invalid_kind", "Choose Initial Exit or One Year Exit Follow-up.", "kind")
    activity = exited_activity(student)
    done = {s.kind for s in activity.surveys}
    if kind in done:
        raise Conflict("pst_recorded", f"The {KINDS[kind]} survey is already recorded for the exit of "
                       f"{activity.exit_date:%m/%d/%Y}.")
    if kind == "one_year" and "initial_exit" not in done:
        raise Conflict("initial_exit_first", "Enter the Initial Exit survey before the One Year Exit Follow-up.")
    raw = values.get("survey_date")
    try:
        day = raw if isinstance(raw, _dt.date) else _dt.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        _refuse("survey_date_required", "Survey Date is required.", "survey_date")
    if day > clock.today():
        _refuse("date_in_future", "Survey Date cannot be in the future.", "survey_date")
    if day < activity.exit_date:
        _refuse("survey_before_exit", f"The Survey Date cannot be before the exit ({activity.exit_date:%m/%d/%Y}).",
                "survey_date")
    if kind == "one_year" and day < one_year_after(activity.exit_date):
        _refuse("too_early", "The One Year Exit Follow-up is taken one year after the exit: from "
                f"{one_year_after(activity.exit_date):%m/%d/%Y}.", "survey_date")
    unable = values.get("unable_to_contact") in (True, "true", "on", "1", "yes")
    questions = (("post_school_plan", "", PLANS),) if kind == "initial_exit" else QUESTIONS
    answers = {}
    if not unable:
        for name, _question, choices in questions:
            answer = (values.get(name) or "").strip()
            if answer not in choices:
                _refuse("survey_incomplete", UNANSWERED, name)
            answers[name] = answer
    survey = PstSurvey(activity_id=activity.id, kind=kind, survey_date=day, unable_to_contact=unable, answers=answers,
                       work_type=work_type(answers) if kind == "one_year" and not unable else "",
                       recorded_by_id=user.id)
    db.session.add(survey)
    activity.surveys.append(survey)
    touch(student)
    db.session.flush()
    event("ser.pst.recorded", user, student, {"activity_id": activity.id, "kind": kind, "unable_to_contact": unable,
                                              "work_type": survey.work_type})
    return survey


def owed(activity: SpedActivity, as_of: _dt.date) -> list[str]:
    """The surveys ``activity`` still owes on ``as_of`` (kinds, in order)."""
    if activity.exit_reason not in exits.PST_REQUIRED or activity.exit_date is None or activity.exit_date > as_of:
        return []
    done = {s.kind for s in activity.surveys}
    missing = [] if "initial_exit" in done else ["initial_exit"]
    if "one_year" not in done and one_year_after(activity.exit_date) <= as_of:
        missing.append("one_year")
    return missing
