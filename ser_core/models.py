"""SER's tables: the state registry, students, jurisdiction, services, guardians, attachments and
evaluations.

``ser_student.lea_id`` / ``site_id`` mirror the student's jurisdiction (kept by
ser_core.jurisdiction alone) so that every list filters on them inside its query.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edlink import clock
from edlink.extensions import db
from edlink.models import Org, User
from edlink.types import UTCDateTime

GENDERS = {"M": "Male", "F": "Female"}
ETHNICITIES = ("Hispanic/Latino", "Not Hispanic/Latino")
RACES = ("American Indian or Alaska Native", "Asian", "Black or African American",
         "Native Hawaiian or Other Pacific Islander", "White", "Two or More Races")
# the PII SER copies from the registry (read-only in SER; the secure ID update refreshes it)
PII_FIELDS = ("first_name", "middle_name", "last_name", "suffix", "birth_date", "gender", "ethnicity", "race")


class _Pii:
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100))
    suffix: Mapped[str] = mapped_column(String(20), default="")
    birth_date: Mapped[_dt.date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(1))
    ethnicity: Mapped[str] = mapped_column(String(40), default="")
    race: Mapped[str] = mapped_column(String(60), default="")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name, self.suffix) if p)

    @property
    def sort_name(self) -> str:
        return f"{self.last_name}, {self.first_name}" + (f" {self.middle_name}" if self.middle_name else "")

    def pii(self) -> dict:
        return {name: getattr(self, name) for name in PII_FIELDS}


class RegistryStudent(_Pii, db.Model):
    """The state student registry (the eScholar unique-ID analogue), loaded by `edlink students import`."""

    __tablename__ = "ser_registry_student"
    __table_args__ = (Index("ix_ser_registry_student_name", "last_name", "first_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[str] = mapped_column(String(10), unique=True)
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class SerStudent(_Pii, db.Model):
    """A student in SER. ``state_id`` is the student's secure ID as SER holds it."""

    __tablename__ = "ser_student"
    __table_args__ = (
        Index("ix_ser_student_name", "last_name", "first_name"),
        Index("ix_ser_student_scope", "lea_id", "site_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[str] = mapped_column(String(10), unique=True)
    lea_id: Mapped[int] = mapped_column(ForeignKey("org.id"))  # the LEA with (or that last had) jurisdiction
    site_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))  # its current (or last) site
    jurisdiction_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # the fields SER users may edit
    primary_language: Mapped[str] = mapped_column(String(60), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    zip_code: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # the last change to the record or any of its parts: five years back or more is inactive
    record_updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)

    lea: Mapped[Org] = relationship(foreign_keys=[lea_id])
    site: Mapped[Org | None] = relationship(foreign_keys=[site_id])
    created_by: Mapped[User | None] = relationship()

    __audit_type__ = "ser_student"

    @property
    def audit_id(self) -> str:
        return self.state_id


class Jurisdiction(db.Model):
    """One period of one LEA (at one site) owning a student. ``kind``: claim (a new LEA) or
    transfer (another site of the same LEA). Periods follow each other with no gap or overlap
    until a jurisdiction is closed."""

    __tablename__ = "ser_jurisdiction"
    __table_args__ = (
        Index("ix_ser_jurisdiction_student", "student_id", "begin_date"),
        # one open jurisdiction per student, whatever two writers do at the same moment
        Index("uq_ser_jurisdiction_open", "student_id", unique=True,
              sqlite_where=db.text("end_date IS NULL"), postgresql_where=db.text("end_date IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("ser_student.id"))
    lea_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    kind: Mapped[str] = mapped_column(String(20))  # claim | transfer
    begin_date: Mapped[_dt.date] = mapped_column(Date)
    end_date: Mapped[_dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(40))  # claimed | transferred | closed
    local_id: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    lea: Mapped[Org] = relationship(foreign_keys=[lea_id])
    site: Mapped[Org] = relationship(foreign_keys=[site_id])


class SerService(db.Model):
    """A special-education service an LEA provides to a student (one per service, special
    transportation included). Open until it has an end date and a termination reason."""

    __tablename__ = "ser_service"
    __table_args__ = (Index("ix_ser_service_student_lea", "student_id", "lea_id", "end_date"),
                      Index("ix_ser_service_provider", "provider_staff_id", "end_date"))
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("ser_student.id"))
    lea_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    service_type: Mapped[str] = mapped_column(String(80))
    recipient: Mapped[str] = mapped_column(String(40), default="Student")
    provider_name: Mapped[str] = mapped_column(String(200))
    provider_staff_id: Mapped[str] = mapped_column(String(10), default="")
    teacher_of_record: Mapped[str] = mapped_column(String(200), default="")
    begin_date: Mapped[_dt.date] = mapped_column(Date)
    end_date: Mapped[_dt.date | None] = mapped_column(Date)
    termination_reason: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # part 2 (migration 0012_ser_ieps): the rest of the Service page
    location: Mapped[str] = mapped_column(String(80), default="")
    minutes_per_week: Mapped[int | None] = mapped_column(Integer)
    teacher_staff_id: Mapped[str] = mapped_column(String(10), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    terminated_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    terminated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("ser_service.id"))  # a provider change's old service

    lea: Mapped[Org] = relationship()
    student: Mapped[SerStudent] = relationship()

    @property
    def is_open(self) -> bool:
        return self.end_date is None


class Guardian(db.Model):
    __tablename__ = "ser_guardian"
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("ser_student.id"), index=True)
    title: Mapped[str] = mapped_column(String(20), default="")
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    suffix: Mapped[str] = mapped_column(String(20), default="")
    relationship_: Mapped[str] = mapped_column("relationship", String(40))
    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip_code: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name, self.suffix) if p)


class Attachment(db.Model):
    """A document about the student, kept in the database with its record (see README)."""

    __tablename__ = "ser_attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("ser_student.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    uploaded_by: Mapped[User | None] = relationship()


class Evaluation(db.Model):
    """An initial evaluation, a re-evaluation or a triennial waiver. ``evaluation_date`` orders
    the history (most recent first); a waiver's is the parent's signature date."""

    __tablename__ = "ser_evaluation"
    __table_args__ = (Index("ix_ser_evaluation_student", "student_id", "evaluation_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("ser_student.id"))
    lea_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    kind: Mapped[str] = mapped_column(String(20))  # initial | reevaluation | triennial_waiver
    permission_request_date: Mapped[_dt.date | None] = mapped_column(Date)
    parent_decision: Mapped[str | None] = mapped_column(String(20))  # consent | declined
    decision_date: Mapped[_dt.date | None] = mapped_column(Date)  # Decision/Start Date
    reevaluation_reason: Mapped[str | None] = mapped_column(String(80))
    completion_date: Mapped[_dt.date | None] = mapped_column(Date)  # evaluation completed
    eligibility_date: Mapped[_dt.date | None] = mapped_column(Date)  # eligibility determination
    parent_signature_date: Mapped[_dt.date | None] = mapped_column(Date)
    evaluation_date: Mapped[_dt.date] = mapped_column(Date)
    coordinator_staff_id: Mapped[str] = mapped_column(String(10), default="")
    declined_on: Mapped[_dt.date | None] = mapped_column(Date)  # Close Jurisdiction: decline date
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    exceptionalities: Mapped[list[Exceptionality]] = relationship(
        order_by="(Exceptionality.is_primary.desc(), Exceptionality.id)", cascade="all, delete-orphan")
    lea: Mapped[Org] = relationship()


class Exceptionality(db.Model):
    __tablename__ = "ser_exceptionality"
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("ser_evaluation.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(String(100), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

