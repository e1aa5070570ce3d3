"""Peewee models for the whole domain (DESIGN §2).

The schema itself (constraints, partial indexes, exclusion constraints) is created by the
migrations in ``store/migrations``; these classes must match it column for column.
Money is integer minor units; times are aware UTC datetimes.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from .db import db
from .fields import UTCDateTimeField

ROLES = ("admin", "reception", "doctor", "patient")
STAFF_ROLES = ("admin", "reception", "doctor")
SLOT_STATUSES = ("open", "blocked")
APPOINTMENT_STATUSES = ("pending", "confirmed", "cancelled", "completed", "no_show")
ACTIVE_APPOINTMENT_STATUSES = ("pending", "confirmed", "completed", "no_show")
LEDGER_KINDS = ("deposit", "withdrawal", "payment", "refund")
LEDGER_DEBITS = ("withdrawal", "payment")
PAYMENT_METHODS = ("wallet", "card")
PAYMENT_STATUSES = ("succeeded", "declined")
REVIEW_STATUSES = ("pending", "approved", "rejected")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class User(BaseModel):
    id = AutoField()
    username = CharField(max_length=64, unique=True)
    email = CharField(max_length=254, unique=True)
    full_name = CharField(max_length=200)
    phone = CharField(max_length=40, default="")
    role = CharField(max_length=16)
    password_hash = CharField(max_length=255, default="")
    is_active = BooleanField(default=True)
    email_verified_at = UTCDateTimeField(null=True)
    totp_secret = CharField(max_length=64, null=True)
    totp_confirmed = BooleanField(default=False)
    totp_last_step = BigIntegerField(null=True)
    failed_logins = IntegerField(default=0)
    locked_until = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "app_user"


class Session(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField()
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "user_session"


class OneTimeCode(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="codes", on_delete="CASCADE")
    purpose = CharField(max_length=32)
    code_hash = CharField(max_length=128)
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField()
    attempts = IntegerField(default=0)
    used_at = UTCDateTimeField(null=True)


class Specialty(BaseModel):
    id = AutoField()
    name = CharField(max_length=80, unique=True)


class Doctor(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="doctor", unique=True, on_delete="RESTRICT")
    bio = TextField(default="")
    room = CharField(max_length=40, default="")
    fee = BigIntegerField(default=0)
    is_active = BooleanField(default=True)
    # Kept by services/reviews.py in the same transaction as each moderation (migration 0002).
    rating_count = IntegerField(default=0)
    rating_total = IntegerField(default=0)


class DoctorSpecialty(BaseModel):
    doctor = ForeignKeyField(Doctor, backref="specialty_links", on_delete="CASCADE")
    specialty = ForeignKeyField(Specialty, backref="doctor_links", on_delete="RESTRICT")

    class Meta:
        primary_key = CompositeKey("doctor", "specialty")


class Patient(BaseModel):
    id = AutoField()
    full_name = CharField(max_length=200)
    email = CharField(max_length=254)
    phone = CharField(max_length=40, default="")
    date_of_birth = DateField(null=True)
    user = ForeignKeyField(User, backref="patient", null=True, unique=True, on_delete="SET NULL")
    created_at = UTCDateTimeField()
    # Opt-out of reminder mail; transactional mail still goes (migration 0002).
    reminders_opt_out = BooleanField(default=False)


class TimeSlot(BaseModel):
    id = AutoField()
    doctor = ForeignKeyField(Doctor, backref="slots", on_delete="CASCADE")
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    status = CharField(max_length=16, default="open")
    booked_before = BooleanField(default=False)  # an appointment left it for another slot

    class Meta:
        table_name = "time_slot"


class Appointment(BaseModel):
    id = AutoField()
    slot = ForeignKeyField(TimeSlot, backref="appointments", on_delete="RESTRICT")
    patient = ForeignKeyField(Patient, backref="appointments", on_delete="RESTRICT")
    doctor = ForeignKeyField(Doctor, backref="appointments", on_delete="RESTRICT")
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    status = CharField(max_length=16, default="pending")
    reason = TextField(default="")
    notes = TextField(default="")
    price = BigIntegerField(default=0)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    cancel_reason = TextField(default="")
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    # Bumped on each change that is mailed as an .ics update (SEQUENCE).
    ics_sequence = IntegerField(default=0)


class Wallet(BaseModel):
    id = AutoField()
    patient = ForeignKeyField(Patient, backref="wallet", unique=True, on_delete="RESTRICT")
    balance = BigIntegerField(default=0)
    updated_at = UTCDateTimeField()


class LedgerEntry(BaseModel):
    """One movement of money. ``amount`` is positive; the kind says its direction."""

    id = AutoField()
    wallet = ForeignKeyField(Wallet, backref="entries", on_delete="RESTRICT")
    kind = CharField(max_length=16)
    amount = BigIntegerField()
    balance_after = BigIntegerField()
    appointment = ForeignKeyField(Appointment, null=True, on_delete="RESTRICT")
    idempotency_key = CharField(max_length=128, null=True, unique=True)
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    note = TextField(default="")
    at = UTCDateTimeField()

    class Meta:
        table_name = "ledger_entry"


class Payment(BaseModel):
    id = AutoField()
    appointment = ForeignKeyField(Appointment, backref="payments", on_delete="RESTRICT")
    method = CharField(max_length=16)
    amount = BigIntegerField()
    refunded_amount = BigIntegerField(default=0)
    status = CharField(max_length=16)
    card_last4 = CharField(max_length=4, null=True)
    idempotency_key = CharField(max_length=128, null=True, unique=True)
    failure_reason = TextField(default="")
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = UTCDateTimeField()

    @classmethod
    def is_open(cls):  # noqa: ANN206 - a peewee expression
        """Succeeded and not refunded in full: what makes an appointment paid. At most one per
        appointment (the unique index of migration 0005 has this very condition)."""
        return (cls.status == "succeeded") & (cls.refunded_amount < cls.amount)


class Review(BaseModel):
    id = AutoField()
    appointment = ForeignKeyField(Appointment, backref="review", unique=True, on_delete="RESTRICT")
    doctor = ForeignKeyField(Doctor, backref="reviews", on_delete="RESTRICT")
    patient = ForeignKeyField(Patient, backref="reviews", on_delete="RESTRICT")
    rating = IntegerField()
    comment = TextField(default="")
    status = CharField(max_length=16, default="pending")
    reject_reason = TextField(default="")
    doctor_response = TextField(default="")
    responded_at = UTCDateTimeField(null=True)
    moderated_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    moderated_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()


class Outbox(BaseModel):
    id = AutoField()
    to_addr = CharField(max_length=254)
    subject = CharField(max_length=255)
    text_body = TextField()
    html_body = TextField(default="")
    attachments = TextField(default="[]")  # JSON: [{"filename", "content_type", "content"}]
    kind = CharField(max_length=40)
    status = CharField(max_length=16, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = UTCDateTimeField()
    claimed_until = UTCDateTimeField(null=True)
    last_error = TextField(default="")
    sent_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    dedupe_key = CharField(max_length=128, null=True, unique=True)
    appointment = ForeignKeyField(Appointment, null=True, on_delete="SET NULL")


class AuditEvent(BaseModel):
    id = AutoField()
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    actor_name = CharField(max_length=64, default="system")
    action = CharField(max_length=64)
    entity = CharField(max_length=32)
    entity_id = BigIntegerField(null=True)
    details = TextField(default="{}")  # JSON
    at = UTCDateTimeField()

    class Meta:
        table_name = "audit_event"


ALL_MODELS: tuple[type[BaseModel], ...] = (
    User,
    Session,
    OneTimeCode,
    Specialty,
    Doctor,
    DoctorSpecialty,
    Patient,
    TimeSlot,
    Appointment,
    Wallet,
    LedgerEntry,
    Payment,
    Review,
    Outbox,
    AuditEvent,
)
