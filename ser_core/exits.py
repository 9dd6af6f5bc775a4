"""Service termination reasons, special-education exit reasons, and the rules between them (seed
003, "Service Termination and Special Education Activity Exits").

Service termination reasons tell why a student stopped receiving a service from this LEA; exit
reasons tell why the student exited special education. The exit must agree with how the
student's last services were terminated:

- Withdrawal of Parental Approval → Transferred to Regular Education or Dropped Out;
- Progress Indicates Services No Longer Needed → a High School Diploma, the Certificate of
  Achievement, an LHSD exit, Reached 22nd Birthday or Previously Earned Diploma, or Transferred to
  Regular Education;
- Health Prevents Continuation → Transferred to Regular Education, Dropped Out or Death;
- Moved/Transferred within the State/LEA → no exit is required; only Dropped Out when the student
  never showed up at the new school;
- Moved out of State → Moved Out of State/Known to be Continuing;
- Service Provider Change → no exit (a new service follows);
- Revocation of Consent ↔ Revocation of Consent (both ways).
"""
from __future__ import annotations

TERMINATION_REASONS = ("Withdrawal of Parental Approval", "Progress Indicates Services No Longer Needed",
                       "Health Prevents Continuation", "Moved/Transferred within the State/LEA",
                       "Moved out of State", "Service Provider Change", "Revocation of Consent")
WITHDRAWAL, PROGRESS, HEALTH, MOVED_WITHIN, MOVED_OUT, PROVIDER_CHANGE, REVOCATION = TERMINATION_REASONS

REGULAR_ED = "Transferred to Regular Education"
DEATH = "Death"
DROPPED_OUT = "Dropped Out"
MOVED_OUT_OF_STATE = "Moved Out of State/Known to be Continuing"
DIPLOMA_REGULAR = "High School Diploma (Regular Assessment)"
DIPLOMA_JUMPSTART = "High School Diploma (Alternate Assessment - Jumpstart)"
DIPLOMA_GRANDFATHERED = "High School Diploma (Alternate Assessment - Grandfathered)"
CERTIFICATE = "Non-Diploma Certificate of Achievement"
AGE_22 = "Reached 22nd Birthday or Previously Earned Diploma"
LHSD = "Louisiana High School Equivalency Diploma (LHSD)"
LHSD_INDUSTRY = "Non-Diploma (LHSD) & Industry Based Skills Certificate"
EXIT_REVOCATION = "Revocation of Consent"
LHSD_STATE = "Non-Diploma (LHSD) & State Approved Skills Certificate"
EXIT_REASONS = (REGULAR_ED, DEATH, DROPPED_OUT, MOVED_OUT_OF_STATE, DIPLOMA_REGULAR, DIPLOMA_JUMPSTART,
                DIPLOMA_GRANDFATHERED, CERTIFICATE, AGE_22, LHSD, LHSD_INDUSTRY, EXIT_REVOCATION, LHSD_STATE)

# seed 003: terminal exits end the student's special education; after one, special education
# resumes only with a new initial evaluation and initial IEP (never after Death). The others
# (the alternate-assessment diplomas, the certificates, dropout, moving out of state) are not.
TERMINAL = frozenset({DEATH, AGE_22, EXIT_REVOCATION, DIPLOMA_REGULAR, REGULAR_ED})
# the exits that require a post-school transition survey (initial exit and one-year follow-up)
PST_REQUIRED = (DIPLOMA_REGULAR, DIPLOMA_JUMPSTART, DIPLOMA_GRANDFATHERED, CERTIFICATE, AGE_22, LHSD, LHSD_STATE,
                LHSD_INDUSTRY, DROPPED_OUT)

ALLOWED_EXITS = {
    WITHDRAWAL: (REGULAR_ED, DROPPED_OUT),
    PROGRESS: (DIPLOMA_REGULAR, DIPLOMA_JUMPSTART, DIPLOMA_GRANDFATHERED, CERTIFICATE, LHSD, LHSD_INDUSTRY,
               LHSD_STATE, AGE_22, REGULAR_ED),
    HEALTH: (REGULAR_ED, DROPPED_OUT, DEATH),
    MOVED_WITHIN: (DROPPED_OUT,),
    MOVED_OUT: (MOVED_OUT_OF_STATE,),
    PROVIDER_CHANGE: (),
    REVOCATION: (EXIT_REVOCATION,),
}


def is_terminal(exit_reason: str) -> bool:
    return exit_reason in TERMINAL


def mismatch(termination_reason: str, exit_reason: str) -> str | None:
    """Why a service terminated with ``termination_reason`` does not fit ``exit_reason``, or None."""
    if exit_reason == EXIT_REVOCATION and termination_reason != REVOCATION:
        return ("The exit Revocation of Consent requires the services to be terminated with Revocation of "
                f"Consent; a service was terminated with {termination_reason}.")
    allowed = ALLOWED_EXITS[termination_reason]
    if exit_reason in allowed:
        return None
    if termination_reason == REVOCATION:
        return "Services terminated with Revocation of Consent require the exit Revocation of Consent."
    if termination_reason == MOVED_WITHIN:
        return ("Services terminated with Moved/Transferred within the State/LEA require no special education "
                "activity exit; only when the student never showed up at the new school is the exit Dropped Out.")
    if termination_reason == MOVED_OUT:
        return ("Services terminated with Moved out of State require the exit Moved Out of State/Known to be "
                "Continuing (after a records request from the out-of-state school).")
    if termination_reason == PROVIDER_CHANGE:
        return ("A service terminated with Service Provider Change needs no exit: add the new provider's service "
                "instead.")
    return (f"Services terminated with {termination_reason} cannot end with the exit {exit_reason}; the exit must "
            f"be one of: {'; '.join(allowed)}.")
