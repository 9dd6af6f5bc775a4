"""SER part 2 tables: IEPs (with their forms and kept versions), special-education activity,
post-school transition surveys and the SIS exit records the cross-check compares.

An IEP's General Information (type, team meeting date, begin and end dates) lives on ``ser_iep``
so reports can query it; every other form's answers are a JSON object on ``ser_iep_form``. Each
time an IEP is made official its whole content is kept as a ``ser_iep_version`` row, so every
version survives the amendments that follow.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edlink import clock
from edlink.extensions import db
from edlink.models import Org, User
from edlink.types import UTCDateTime
from ser_core.models import SerStudent


class Iep(db.Model):
    __tablename__ = "ser_iep"
    __table_args__ = (Index("ix_ser_iep_student", "student_id", "team_meeting_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("ser_student.id"))
    lea_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    iep_type: Mapped[str] = mapped_column(String(20))  # initial | annual | reevaluation | transfer
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | official | amended_draft
    team_meeting_date: Mapped[_dt.date | None] = mapped_column(Date)
    begin_date: Mapped[_dt.date | None] = mapped_column(Date)
    end_date: Mapped[_dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)  # 1, then one more per amendment
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    made_official_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    validated_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    student: Mapped[SerStudent] = relationship()
    lea: Mapped[Org] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    forms: Mapped[list[IepForm]] = relationship(order_by="IepForm.position", cascade="all, delete-orphan")
    versions: Mapped[list[IepVersion]] = relationship(order_by="IepVersion.version.desc()",
                                                      cascade="all, delete-orphan")

    __audit_type__ = "ser_iep"

    @property
    def audit_id(self) -> str:
        return str(self.id)


class IepForm(db.Model):
    __tablename__ = "ser_iep_form"
    __table_args__ = (UniqueConstraint("iep_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    iep_id: Mapped[int] = mapped_column(ForeignKey("ser_iep.id"))
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class IepVersion(db.Model):
    """The IEP as it was made official (version 1, then each amendment)."""

    __tablename__ = "ser_iep_version"
    __table_args__ = (UniqueConstraint("iep_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    iep_id: Mapped[int] = mapped_column(ForeignKey("ser_iep.id"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    made_official_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    made_official_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())


class SpedActivity(db.Model):
    """When a student entered special education and, once closed, how and when the student exited."""

    __tablename__ = "ser_sped_activity"
    __table_args__ = (Index("ix_ser_sped_activity_student", "student_id", "begin_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("ser_student.id"))
    lea_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    begin_date: Mapped[_dt.date] = mapped_column(Date)
    opened_by_iep_id: Mapped[int | None] = mapped_column(ForeignKey("ser_iep.id"))
    exit_date: Mapped[_dt.date | None] = mapped_column(Date, index=True)
    exit_reason: Mapped[str | None] = mapped_column(String(80))
    exit_lea_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    student: Mapped[SerStudent] = relationship()
    lea: Mapped[Org] = relationship(foreign_keys=[lea_id])
    surveys: Mapped[list[PstSurvey]] = relationship(order_by="PstSurvey.id")


class PstSurvey(db.Model):
    """A post-school transition survey: the initial exit survey or the one-year follow-up."""

    __tablename__ = "ser_pst_survey"
    __table_args__ = (UniqueConstraint("activity_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("ser_sped_activity.id"))
    kind: Mapped[str] = mapped_column(String(20))  # initial_exit | one_year
    survey_date: Mapped[_dt.date] = mapped_column(Date)
    unable_to_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    work_type: Mapped[str] = mapped_column(String(60), default="")
    recorded_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SisExit(db.Model):
    """An exit record from the student information system (imported CSV), for the cross-check."""

    __tablename__ = "ser_sis_exit"
    __table_args__ = (UniqueConstraint("state_id", "lea_code", "exit_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[str] = mapped_column(String(10), index=True)
    lea_code: Mapped[str] = mapped_column(String(20))
    exit_code: Mapped[str] = mapped_column(String(10))
    exit_date: Mapped[_dt.date] = mapped_column(Date)
    imported_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
