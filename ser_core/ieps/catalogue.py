"""The IEP form catalogue and the error-code catalogue (the SER guide's Appendix D analogue:
each code with its definition and its solution).

A form is a list of fields; General Information's fields are columns of ``ser_iep``, the others
are kept as the form's answers. ``required`` forms are on every new IEP and cannot be deleted;
the Amendments form is added by an amendment and stays while the IEP is an Amended-Draft.
"""
from __future__ import annotations

from dataclasses import dataclass

IEP_TYPES = {"initial": "Initial", "annual": "Annual Review", "reevaluation": "Re-Evaluation",
             "transfer": "Transfer (from another LEA)"}
STATUSES = {"draft": "Draft", "official": "Official", "amended_draft": "Amended-Draft"}
PARENT_CONTACT_METHODS = ("In Person", "Telephone", "Written Notice", "E-mail")
ASSESSMENTS = ("Regular Assessment", "Regular Assessment with Accommodations",
               "Alternate Assessment (LEAP Connect)")
SETTINGS = ("Regular class 80% or more of the day", "Regular class 40% to 79% of the day",
            "Regular class less than 40% of the day", "Separate school", "Residential facility",
            "Home or hospital")
YES_NO = ("Yes", "No")


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str = "text"  # text | textarea | date | number | choice
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Form:
    code: str
    title: str
    fields: tuple[FormField, ...]
    required: bool = False


FORMS = (
    Form("general", "General Information", (
        FormField("iep_type", "IEP Type", "choice", tuple(IEP_TYPES)),
        FormField("team_meeting_date", "Team Meeting Date", "date"),
        FormField("begin_date", "IEP Begin Date", "date"),
        FormField("end_date", "IEP End Date", "date")), required=True),
    Form("present_levels", "Present Levels of Academic Achievement and Functional Performance", (
        FormField("academic", "Academic Achievement", "textarea"),
        FormField("functional", "Functional Performance", "textarea")), required=True),
    Form("goals", "Annual Goals", (
        FormField("goal", "Measurable Annual Goal", "textarea"),
        FormField("measurement", "How Progress Will Be Measured", "textarea")), required=True),
    Form("program_services", "Program Services", (
        FormField("services", "Special Education and Related Services", "textarea"),
        FormField("minutes_per_week", "Minutes per Week", "number"),
        FormField("setting", "Educational Setting", "choice", SETTINGS)), required=True),
    Form("assessment", "Assessment Participation", (
        FormField("assessment", "Statewide Assessment", "choice", ASSESSMENTS),
        FormField("accommodations", "Accommodations", "textarea")), required=True),
    Form("signatures", "Participants and Signatures", (
        FormField("parent_participated", "Parent Participated", "choice", YES_NO),
        FormField("parent_signature_date", "Parent Signature Date", "date"),
        FormField("lea_representative", "LEA Representative", "text")), required=True),
    Form("transition", "Post-Secondary Transition Plan", (
        FormField("postsecondary_goals", "Measurable Postsecondary Goals", "textarea"),
        FormField("transition_services", "Transition Services", "textarea"))),
    Form("esy", "Extended School Year Services", (
        FormField("esy_eligible", "Eligible for Extended School Year Services", "choice", YES_NO),
        FormField("esy_services", "Extended School Year Services", "textarea"))),
    Form("site_determination", "Site Determination", (
        FormField("site_code", "Site Code", "text"),
        FormField("reason", "Reason for the Site", "textarea"))),
    Form("amendments", "Amendments", (
        FormField("amendment_date", "Amendment Date", "date"),
        FormField("parent_contact_method", "How the Parent Was Informed", "choice", PARENT_CONTACT_METHODS),
        FormField("explanation", "What Was Changed and Why", "textarea"))),
)
BY_CODE = {form.code: form for form in FORMS}
ORDER = {form.code: i for i, form in enumerate(FORMS)}
REQUIRED = tuple(form.code for form in FORMS if form.required)
GENERAL_FIELDS = tuple(f.name for f in BY_CODE["general"].fields)
# forms a user may add or delete from the Add/Delete Forms list (Amendments comes with an amendment)
OPTIONAL = tuple(form.code for form in FORMS if not form.required and form.code != "amendments")
TRANSITION_AGE = 16


@dataclass(frozen=True)
class Code:
    code: str
    level: str  # error | warning
    form: str
    definition: str
    solution: str


CODES = (
    Code("IEP-E001", "error", "general", "The Team Meeting Date is missing.",
         "Enter the date the IEP team met on General Information."),
    Code("IEP-E002", "error", "general", "The Team Meeting Date is in the future.",
         "Enter the date the team actually met; an IEP cannot be completed before its meeting."),
    Code("IEP-E003", "error", "general", "The IEP Begin Date is missing or before the Team Meeting Date.",
         "Enter an IEP Begin Date on or after the Team Meeting Date."),
    Code("IEP-E004", "error", "general", "The IEP End Date is missing, not after the Begin Date, or more than "
         "one year after the Team Meeting Date.",
         "Enter an IEP End Date after the Begin Date and no later than one year after the Team Meeting Date."),
    Code("IEP-E005", "error", "general", "An initial IEP needs an initial evaluation with an Eligibility "
         "Determination Date on or before the Team Meeting Date.",
         "Complete the student's initial evaluation (Evaluations, Initial tab) before the initial IEP."),
    Code("IEP-W006", "warning", "general", "The initial IEP's Team Meeting Date is more than 30 calendar days "
         "after the eligibility determination (out of the IEP timeline).",
         "No correction needed if the date is right; the IEP compliance report counts it out of timeline."),
    Code("IEP-E010", "error", "present_levels", "Academic Achievement is missing.",
         "Describe the student's present level of academic achievement."),
    Code("IEP-W011", "warning", "present_levels", "Functional Performance is empty.",
         "Describe the student's functional performance, or leave it empty when it does not apply."),
    Code("IEP-E020", "error", "goals", "No measurable annual goal is entered.",
         "Enter at least one measurable annual goal."),
    Code("IEP-W021", "warning", "goals", "How progress will be measured is not described.",
         "Describe how and when progress toward the goals will be reported."),
    Code("IEP-E030", "error", "program_services", "No special education or related service is listed.",
         "List the services from the Program Services page; each also needs a service record in SER."),
    Code("IEP-E031", "error", "program_services", "Minutes per Week is missing or not a whole number above 0.",
         "Enter the weekly minutes of special education as a whole number."),
    Code("IEP-E032", "error", "program_services", "The Educational Setting is not chosen.",
         "Choose the setting where the student receives the services."),
    Code("IEP-E040", "error", "assessment", "The statewide assessment is not chosen.",
         "Choose how the student takes the statewide assessment."),
    Code("IEP-E050", "error", "signatures", "Parent Participated is not answered.",
         "Record whether the parent took part in the team meeting."),
    Code("IEP-W051", "warning", "signatures", "The Parent Signature Date is missing.",
         "Enter the date the parent signed, when the parent signed the IEP."),
    Code("IEP-E060", "error", "transition", "A student 16 or older by the IEP End Date needs a Post-Secondary "
         "Transition Plan.", "Add the Post-Secondary Transition Plan form and complete it."),
    Code("IEP-E061", "error", "transition", "Measurable Postsecondary Goals are missing.",
         "Enter the student's measurable postsecondary goals."),
    Code("IEP-E070", "error", "esy", "Eligibility for Extended School Year Services is not answered.",
         "Answer Yes or No; when Yes, describe the services."),
    Code("IEP-E071", "error", "esy", "The student is eligible for Extended School Year Services but none "
         "are described.", "Describe the Extended School Year Services."),
    Code("IEP-E080", "error", "site_determination", "The Site Code is missing or is not a site of this LEA.",
         "Enter the code of a school or served site of the LEA with jurisdiction."),
    Code("IEP-E081", "error", "site_determination", "The reason for the site is missing.",
         "Explain why the team chose the site."),
    Code("IEP-E090", "error", "amendments", "How the parent was informed of the change is missing.",
         "Choose the parent contact method on the Amendments form."),
    Code("IEP-E091", "error", "amendments", "The explanation of what was changed and why is missing.",
         "Explain on the Amendments form what was changed and why."),
    Code("IEP-E092", "error", "amendments", "The Amendment Date is missing, before the Team Meeting Date or in "
         "the future.", "Enter the date of the amendment (the Team Meeting Date does not change with "
         "amendments)."),
)
CODE_BY_ID = {c.code: c for c in CODES}
