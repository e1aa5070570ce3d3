"""Demo data: a small, lived-in clinic for trying clinic-desk (``clinic-desk demo``).

Every row comes from a fixed random seed, the lists in ``data/demo.json`` and today's date in the
clinic's time zone, so the calendar is alive whenever the demo runs and two runs at the same instant
give the same rows. The rows are planned in memory first (ids known up front), then written with
bulk inserts in one transaction. Only an empty database, or one that holds nothing but the demo, is
seeded (the demo is replaced); anything else needs ``reset=True``, which empties every table first.

What the plan keeps true (the same invariants the services keep): one active appointment per slot,
no patient with two visits on one day (so never two overlapping ones), prices equal to the doctor's
fee, wallet balances equal to their ledger and never below zero along the way, reviews only on
completed visits and each doctor's rating aggregate equal to its approved reviews.
"""

from __future__ import annotations

import bisect
import json
import random
import time as timer
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from peewee import Model, chunked

from .. import config
from ..errors import Refused
from ..store.db import db, is_postgres
from ..store.models import (
    ALL_MODELS,
    Appointment,
    AuditEvent,
    Doctor,
    DoctorSpecialty,
    LedgerEntry,
    Outbox,
    Patient,
    Payment,
    Review,
    Specialty,
    TimeSlot,
    User,
    Wallet,
)
from . import accounts, clock, notify, timeutil
from .money import format_money
from .tx import writes

SEED = 20240611
DEMO_DOMAIN = "demo.clinic-desk.test"
LOGIN_USERNAMES = ("admin", "reception", "doctor", "patient")
UNUSABLE_PASSWORD = "!"  # not an argon2 hash: nobody logs in as the other demo users
DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "demo.json"

PAST_DAYS = 28
FUTURE_DAYS = 28
SLOT = timedelta(minutes=30)
SESSIONS = {
    "morning": ((time(9, 0), time(12, 30)),),
    "afternoon": ((time(13, 30), time(17, 0)),),
    "full": ((time(9, 0), time(12, 30)), (time(13, 30), time(17, 0))),
}
PATIENTS = 300
CONFERENCE_DOCTORS = (3, 12)  # doctor ids
MAIL_WINDOW = timedelta(hours=48)
SMTP_MAX_ATTEMPTS = 8


def demo_password(username: str) -> str:
    return f"demo-{username}-pass"


def demo_email(username: str) -> str:
    return f"{username}@{DEMO_DOMAIN}"


# -- what the command prints ------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    who: str


@dataclass(frozen=True)
class DemoSummary:
    counts: dict[str, int]  # table -> rows seeded
    appointment_statuses: dict[str, int]
    logins: tuple[DemoLogin, ...]
    replaced: str  # "nothing" | "demo" (an earlier demo) | "everything" (reset)
    seconds: float

    def lines(self) -> list[str]:
        lines = []
        if self.replaced == "demo":
            lines.append("This database held the demo already: replaced it with a fresh one.")
        elif self.replaced == "everything":
            lines.append("Emptied every table (--reset).")
        lines.append(f"Seeded the demo clinic in {self.seconds:.1f} s:")
        width = max(len(table) for table in self.counts)
        lines.extend(f"  {table:<{width}}  {count:>6}" for table, count in self.counts.items())
        statuses = ", ".join(f"{count} {status}" for status, count in self.appointment_statuses.items())
        lines.append(f"  appointments by status: {statuses}")
        lines.append("Logins (username / password):")
        lines.extend(f"  {login.username:<10} {login.password:<20} {login.who}" for login in self.logins)
        return lines


def seed(reset: bool = False) -> DemoSummary:
    """Fill the configured database with the demo clinic, in one transaction.

    Refused when the database holds anything but an earlier demo, unless ``reset`` (which empties
    every table first).
    """
    started = timer.perf_counter()
    plan = _Planner(clock.now(), timeutil.clinic_tz(), _data()).plan()
    for username in LOGIN_USERNAMES:
        plan.users[username]["password_hash"] = accounts.hash_password(demo_password(username))
    replaced = _write(plan, reset=reset)
    return DemoSummary(
        counts={model._meta.table_name: len(rows) for model, rows in plan.rows.items() if rows},
        appointment_statuses=dict(
            sorted(Counter(row["status"] for row in plan.rows[Appointment]).items())
        ),
        logins=plan.logins,
        replaced=replaced,
        seconds=timer.perf_counter() - started,
    )


# -- writing ---------------------------------------------------------------------


@writes
def _write(plan: _Plan, *, reset: bool) -> str:
    found = _existing_data()
    if found == "empty":
        replaced = "nothing"
    elif found == "demo":
        replaced = "demo"
    elif reset:
        replaced = "everything"
    else:
        raise Refused(
            f"this database holds data that is not the demo's ({found}); "
            "`clinic-desk demo --reset` deletes everything in it and seeds the demo"
        )
    if found != "empty":
        _empty_every_table()
    for model, rows in plan.rows.items():
        for batch in chunked(rows, 500):
            model.insert_many(batch).execute()
    if is_postgres():
        _advance_sequences()
    return replaced


def _existing_data() -> str:
    """'empty', 'demo' (only demo users, whatever else they did), or what shows other data."""
    other = User.select(User.username).where(~User.email.endswith("@" + DEMO_DOMAIN)).first()
    if other is not None:
        return f"user {other.username!r}"
    if User.select().exists():
        return "demo"
    for model in ALL_MODELS:
        if model.select().exists():
            return f"rows in {model._meta.table_name}"
    return "empty"


def _empty_every_table() -> None:
    tables = [model._meta.table_name for model in reversed(ALL_MODELS)]
    if is_postgres():
        db.execute_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        return
    for table in tables:
        db.execute_sql(f"DELETE FROM {table}")
    placeholders = ", ".join("?" for _ in tables)
    db.execute_sql(f"DELETE FROM sqlite_sequence WHERE name IN ({placeholders})", tables)


def _advance_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move each past its table's largest id."""
    for model in ALL_MODELS:
        if getattr(model._meta.primary_key, "field_names", None):
            continue  # composite key, no sequence
        table = model._meta.table_name
        db.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


# -- planning ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


@dataclass
class _Plan:
    rows: dict[type[Model], list[dict[str, Any]]]
    users: dict[str, dict[str, Any]]  # username -> its row (password hashes are set last)
    logins: tuple[DemoLogin, ...]


@dataclass
class _Slot:
    id: int
    doctor: int  # doctor id
    day: date
    starts_at: datetime
    ends_at: datetime
    blocked: bool


@dataclass
class _Visit:
    """An appointment being planned, with what the later steps need to know about it."""

    slot: _Slot
    patient: int
    status: str
    created_at: datetime
    updated_at: datetime
    created_by: int
    reason: str
    notes: str = ""
    cancel_reason: str = ""
    by_clinic: bool = False
    curated: bool = False  # the demo patient's visits: payment and review set by hand
    pay: str | None = None  # "wallet" | "card" when paid
    pay_after_visit: bool = False
    review: str | None = None  # curated review state
    id: int = 0


@dataclass
class _Pool:
    """Patients a doctor sees, drawn with fixed weights (some patients come often)."""

    ids: list[int] = field(default_factory=list)
    cumulative: list[float] = field(default_factory=list)

    def add(self, patient_id: int, weight: float) -> None:
        self.ids.append(patient_id)
        self.cumulative.append((self.cumulative[-1] if self.cumulative else 0) + weight)

    def draw(self, rng: random.Random) -> int:
        return self.ids[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


class _Planner:
    def __init__(self, now: datetime, tz: ZoneInfo, data: dict[str, Any]) -> None:
        self.rng = random.Random(SEED)
        self.now = now
        self.tz = tz
        self.today = now.astimezone(tz).date()
        self.data = data
        self.rows: dict[type[Model], list[dict[str, Any]]] = {model: [] for model in ALL_MODELS}
        self.users: dict[str, dict[str, Any]] = {}
        self.doctor_ids: dict[str, int] = {}  # username -> doctor id
        self.doctor_specialties: dict[int, list[str]] = {}
        self.doctor_rows: dict[int, dict[str, Any]] = {}
        self.patient_rows: dict[int, dict[str, Any]] = {}
        self.demo_patient = 0
        self.slots: list[_Slot] = []
        self.visits: list[_Visit] = []
        self.busy: set[tuple[int, date]] = set()  # (patient, day) with a visit: one a day each
        self.opened_wallet: set[int] = set()  # patients who opened a wallet (not only got a refund)
        self.wallet_of: dict[int, int] = {}  # patient id -> wallet id
        # patient id -> (at, order, kind, amount, appointment id, note)
        self.wallet_events: dict[int, list[tuple[datetime, int, str, int, int, str]]] = defaultdict(list)
        self.ledger_deposits: list[dict[str, Any]] = []

    # -- helpers --

    def between(self, start: datetime, end: datetime) -> datetime:
        """A random instant in [start, end], to the second (start when the range is empty)."""
        seconds = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randint(0, seconds)) if seconds > 0 else start

    def minutes(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=self.rng.randint(low, high))

    def local(self, day: date, wall: time) -> datetime:
        return datetime.combine(day, wall, tzinfo=self.tz).astimezone(UTC)

    def phone(self) -> str:
        if self.rng.random() < 0.7:
            return f"+44 7700 900{self.rng.randint(0, 999):03d}"
        return f"+44 20 7946 0{self.rng.randint(0, 999):03d}"

    def user(self, username: str, full_name: str, role: str, created_at: datetime) -> int:
        user_id = len(self.users) + 1
        self.users[username] = {
            "id": user_id,
            "username": username,
            "email": demo_email(username),
            "full_name": full_name,
            "phone": self.phone(),
            "role": role,
            "password_hash": UNUSABLE_PASSWORD,
            "is_active": True,
            "email_verified_at": created_at,
            "created_at": created_at,
        }
        self.rows[User].append(self.users[username])
        return user_id

    def plan(self) -> _Plan:
        self.people()
        self.schedules()
        self.bookings()
        self.ids_in_booking_order()
        self.money()
        self.reviews()
        self.mail()
        self.audit()
        return _Plan(rows=self.rows, users=self.users, logins=self.logins())

    # -- people --

    def people(self) -> None:
        data, rng = self.data, self.rng
        opened = self.now - timedelta(days=400)
        self.admin = self.user("admin", data["staff"]["admin"], "admin", opened)
        self.reception = self.user("reception", data["staff"]["reception"], "reception", opened)
        specialty_ids = {}
        for number, name in enumerate(data["specialties"], start=1):
            specialty_ids[name] = number
            self.rows[Specialty].append({"id": number, "name": name})
        for number, (username, full_name, specialties) in enumerate(data["doctors"], start=1):
            user_id = self.user(username, full_name, "doctor", opened + timedelta(days=rng.randint(0, 300)))
            years = rng.randint(4, 30)
            opener = rng.choice(data["bio_openers"]).format(
                years=years,
                years_here=rng.randint(1, min(years, 12)),
                city=rng.choice(data["cities"]),
                language=rng.choice(data["languages"]),
            )
            interest = rng.choice(data["interests"][specialties[0]])
            row = {
                "id": number,
                "user": user_id,
                "bio": f"{' and '.join(specialties)}. Special interest in {interest}. {opener}",
                "room": f"{1 + (number - 1) // 10}.{(number - 1) % 10 + 1:02d}",
                "fee": rng.randrange(60, 185, 5) * 100,
                "is_active": True,
                "rating_count": 0,
                "rating_total": 0,
            }
            self.rows[Doctor].append(row)
            self.doctor_rows[number] = row
            self.doctor_ids[username] = number
            self.doctor_specialties[number] = specialties
            self.rows[DoctorSpecialty].extend(
                {"doctor": number, "specialty": specialty_ids[name]} for name in specialties
            )
        patient_user = self.user("patient", data["demo_patient"][0], "patient", self.now - timedelta(days=320))
        self.patients(patient_user)

    def patients(self, patient_user: int) -> None:
        data, rng = self.data, self.rng
        demo_name, demo_birth = data["demo_patient"]
        people = [
            {
                "full_name": demo_name,
                "email": demo_email("patient"),
                "phone": self.users["patient"]["phone"],
                "date_of_birth": date.fromisoformat(demo_birth),
                "user": patient_user,
                "created_at": self.users["patient"]["created_at"],
                "reminders_opt_out": False,
                "_female": False,
                "_child": False,
            }
        ]
        seen = {demo_name}
        while len(people) < PATIENTS:
            female = rng.random() < 0.52
            first = rng.choice(data["first_names_female" if female else "first_names_male"])
            last = rng.choice(data["last_names"])
            if f"{first} {last}" in seen:
                continue
            seen.add(f"{first} {last}")
            child = rng.random() < 0.15
            age_days = rng.randint(200, 16 * 365) if child else rng.randint(18 * 365, 92 * 365)
            email = f"parents.{_slug(last)}@example.test" if child else f"{_slug(first)}.{_slug(last)}@example.test"
            people.append(
                {
                    "full_name": f"{first} {last}",
                    "email": email,
                    "phone": self.phone(),
                    "date_of_birth": self.today - timedelta(days=age_days),
                    "user": None,
                    "created_at": self.now - timedelta(days=rng.randint(60, 390), minutes=rng.randint(0, 600)),
                    "reminders_opt_out": rng.random() < 0.05,
                    "_female": female,
                    "_child": child,
                }
            )
        people.sort(key=lambda person: person["created_at"])
        self.pools: dict[str, _Pool] = {name: _Pool() for name in ("children", "women", "adults", "everyone")}
        for number, person in enumerate(people, start=1):
            female, child = person.pop("_female"), person.pop("_child")
            person["id"] = number
            self.patient_rows[number] = person
            self.rows[Patient].append(person)
            if person["user"] is not None:
                self.demo_patient = number
                continue  # the demo patient's visits are picked by hand
            weight = rng.choice((1, 1, 1, 2, 2, 3, 5))
            self.pools["everyone"].add(number, weight)
            self.pools["children" if child else "adults"].add(number, weight)
            if female and not child:
                self.pools["women"].add(number, weight)

    def pool_for(self, doctor: int) -> _Pool:
        specialties = set(self.doctor_specialties[doctor])
        if "Paediatrics" in specialties:
            return self.pools["children"]
        if "Gynaecology" in specialties:
            return self.pools["women"]
        if specialties & {"General practice", "Dermatology", "Ophthalmology", "Ear, nose and throat"}:
            return self.pools["everyone"]
        return self.pools["adults"]

    # -- slots --

    def schedules(self) -> None:
        """Weekday surgeries in local wall-clock time (so 09:00 stays 09:00 across DST)."""
        rng = self.rng
        login_doctor = self.doctor_ids["doctor"]
        days = [self.today + timedelta(days=offset) for offset in range(-PAST_DAYS, FUTURE_DAYS)]
        for doctor in sorted(self.doctor_rows):
            if doctor == login_doctor:
                week = {weekday: "full" for weekday in range(5)}
            else:
                workdays = rng.sample(range(5), k=rng.choice((3, 4, 4, 5)))
                week = {weekday: rng.choice(("full", "full", "morning", "afternoon")) for weekday in workdays}
            away = None
            if doctor in CONFERENCE_DOCTORS:  # away one day: their slots are blocked
                away = self.today + timedelta(days=rng.randint(3, 20))
            for day in days:
                session = week.get(day.weekday())
                if doctor == login_doctor and day == self.today and session is None:
                    session = "morning"  # the weekend surgery: "my day" is never empty
                if session is None:
                    continue
                for start, end in SESSIONS[session]:
                    wall = datetime.combine(day, start)
                    while wall + SLOT <= datetime.combine(day, end):
                        self.slots.append(
                            _Slot(
                                id=len(self.slots) + 1,
                                doctor=doctor,
                                day=day,
                                starts_at=self.local(day, wall.time()),
                                ends_at=self.local(day, (wall + SLOT).time()),
                                blocked=day == away,
                            )
                        )
                        wall += SLOT
        self.rows[TimeSlot] = [
            {
                "id": slot.id,
                "doctor": slot.doctor,
                "starts_at": slot.starts_at,
                "ends_at": slot.ends_at,
                "status": "blocked" if slot.blocked else "open",
            }
            for slot in self.slots
        ]

    # -- appointments --

    def occupancy(self, slot: _Slot) -> float:
        ahead = (slot.day - self.today).days
        if ahead < 0:
            return 0.09
        if ahead == 0:
            return 0.4
        if ahead <= 7:
            return 0.16
        if ahead <= 14:
            return 0.08
        return 0.03

    def status_for(self, slot: _Slot, *, may_cancel: bool = True) -> str:
        rng = self.rng
        if slot.ends_at <= self.now:
            if slot.day == self.today and self.now - slot.ends_at < timedelta(minutes=90) and rng.random() < 0.5:
                return "confirmed"  # seen this morning, not marked yet
            choices, weights = ("completed", "no_show", "cancelled"), (78, 8, 14)
        elif slot.starts_at <= self.now:
            return "confirmed"  # in the room right now
        elif slot.starts_at - self.now < timedelta(days=2):
            choices, weights = ("confirmed", "pending", "cancelled"), (70, 20, 10)
        else:
            choices, weights = ("confirmed", "pending", "cancelled"), (45, 45, 10)
        if not may_cancel:
            choices, weights = choices[:2], weights[:2]
        return rng.choices(choices, weights)[0]

    def booked_at(self, slot: _Slot) -> datetime:
        """Some time in the three weeks before the visit, and before now."""
        latest = min(slot.starts_at - timedelta(hours=1), self.now - timedelta(minutes=5))
        earliest = min(slot.starts_at - timedelta(days=21), latest - timedelta(days=3))
        return self.between(earliest, latest)

    def visit(self, slot: _Slot, patient: int, status: str, created_at: datetime, **extra: Any) -> _Visit:
        rng = self.rng
        specialty = self.doctor_specialties[slot.doctor][0]
        latest = min(slot.starts_at, self.now)
        if status in ("completed", "no_show"):
            updated = min(slot.ends_at + self.minutes(1, 30), self.now)
        elif status in ("confirmed", "cancelled"):
            updated = self.between(created_at, latest)  # when it was confirmed or cancelled
        else:
            updated = created_at
        visit = _Visit(
            slot=slot,
            patient=patient,
            status=status,
            created_at=created_at,
            updated_at=updated,
            created_by=self.reception,
            reason=rng.choice(self.data["reasons"][specialty]),
            notes=rng.choice(self.data["visit_notes"]) if status == "completed" and rng.random() < 0.5 else "",
            **extra,
        )
        if status == "cancelled" and not visit.cancel_reason:
            visit.by_clinic = rng.random() < 0.2
            reasons = self.data["cancel_reasons_clinic" if visit.by_clinic else "cancel_reasons_patient"]
            visit.cancel_reason = rng.choice(reasons)
        self.visits.append(visit)
        self.busy.add((patient, slot.day))
        return visit

    def bookings(self) -> None:
        taken = self.curated_visits()
        login_doctor = self.doctor_ids["doctor"]
        todays = [s for s in self.slots if s.doctor == login_doctor and s.day == self.today and s.id not in taken]
        left_free = {s.id for s in self.rng.sample(todays, k=min(3, len(todays) - 3))} if len(todays) > 3 else set()
        for slot in sorted(self.slots, key=lambda s: (s.starts_at, s.doctor)):
            if slot.blocked or slot.id in taken:
                continue
            if slot.doctor == login_doctor and slot.day == self.today:
                if slot.id in left_free:
                    continue
            elif self.rng.random() >= self.occupancy(slot):
                continue
            patient = self.free_patient(slot)
            if patient is None:
                continue
            status = self.status_for(slot)
            first = self.visit(slot, patient, status, self.booked_at(slot))
            if status == "cancelled" and self.rng.random() < 0.35:
                again = self.free_patient(slot)  # the freed slot was booked again
                if again is not None:
                    rebooked = self.between(first.updated_at, min(slot.starts_at, self.now))
                    self.visit(slot, again, self.status_for(slot, may_cancel=False), rebooked)

    def free_patient(self, slot: _Slot) -> int | None:
        """A patient of this doctor's kind with no other visit that day (so nothing overlaps)."""
        pool = self.pool_for(slot.doctor)
        for _ in range(20):
            patient = pool.draw(self.rng)
            if (patient, slot.day) not in self.busy:
                return patient
        return None

    def curated_visits(self) -> set[int]:
        """The demo patient's history: something to pay, review, cancel and look forward to."""
        plans = [
            # doctor, days from today (range), status, payment, review
            ("doctor", (-26, -18), "completed", "wallet", "approved"),
            ("snakamura", (-16, -9), "completed", "card", None),
            ("pmehta", (-8, -2), "completed", "wallet", "pending"),
            ("rjansen", (-7, -1), "cancelled", "wallet", None),
            ("doctor", (2, 6), "confirmed", "wallet", None),
            ("cdubois", (8, 16), "pending", None, None),
        ]
        taken: set[int] = set()
        for username, (low, high), status, pay, review in plans:
            doctor = self.doctor_ids[username]
            first, last = self.today + timedelta(days=low), self.today + timedelta(days=high)
            candidates = [
                slot
                for slot in self.slots
                if slot.doctor == doctor
                and first <= slot.day <= last
                and not slot.blocked
                and (slot.ends_at <= self.now if low < 0 else slot.starts_at > self.now)
                and (self.demo_patient, slot.day) not in self.busy
            ]
            if not candidates:
                continue
            slot = self.rng.choice(candidates)
            taken.add(slot.id)
            self.visit(
                slot,
                self.demo_patient,
                status,
                self.booked_at(slot),
                curated=True,
                pay=pay,
                review=review,
                cancel_reason="Travelling that week" if status == "cancelled" else "",
            )
            if self.rng.random() < 0.5:
                self.visits[-1].created_by = self.users["patient"]["id"]  # booked it themselves
        return taken

    def ids_in_booking_order(self) -> None:
        self.visits.sort(key=lambda v: (v.created_at, v.slot.id))
        for number, visit in enumerate(self.visits, start=1):
            visit.id = number
            slot = visit.slot
            self.rows[Appointment].append(
                {
                    "id": number,
                    "slot": slot.id,
                    "patient": visit.patient,
                    "doctor": slot.doctor,
                    "starts_at": slot.starts_at,
                    "ends_at": slot.ends_at,
                    "status": visit.status,
                    "reason": visit.reason,
                    "notes": visit.notes,
                    "price": self.doctor_rows[slot.doctor]["fee"],
                    "created_by": visit.created_by,
                    "cancel_reason": visit.cancel_reason,
                    "created_at": visit.created_at,
                    "updated_at": visit.updated_at,
                    # the confirmation mailed an invitation (SEQUENCE 1)
                    "ics_sequence": 1 if visit.status in ("confirmed", "completed", "no_show") else 0,
                }
            )

    # -- money --

    # Paying confirms a pending appointment (services/payments.py), so pending ones are never paid.
    PAID_SHARE = {"completed": 0.85, "no_show": 0.4, "confirmed": 0.35, "pending": 0.0, "cancelled": 0.3}

    def money(self) -> None:
        rng = self.rng
        has_wallet = {pid for pid in sorted(self.patient_rows) if pid == self.demo_patient or rng.random() < 0.55}
        self.opened_wallet = has_wallet
        payments: list[dict[str, Any]] = []
        for visit in self.visits:
            if not visit.curated:
                if rng.random() >= self.PAID_SHARE[visit.status]:
                    continue
                use_wallet = visit.patient in has_wallet and rng.random() < 0.6
                visit.pay = "wallet" if use_wallet else "card"
                visit.pay_after_visit = visit.status == "completed" and rng.random() < 0.5
            if visit.pay is None:
                continue
            payments.extend(self.payment(visit))
        payments.sort(key=lambda row: (row["created_at"], row["appointment"], row["status"]))
        for number, row in enumerate(payments, start=1):
            row["id"] = number
        self.rows[Payment] = payments
        # Refunds always go to the wallet, card payments' too: a refund opens one when missing.
        with_wallet = sorted(has_wallet | {pid for pid, events in self.wallet_events.items() if events})
        self.wallet_of = {pid: number for number, pid in enumerate(with_wallet, start=1)}
        self.ledger()

    def refund_share(self, visit: _Visit) -> tuple[int, str]:
        """The cancellation policy of services/payments.py: (percent refunded, the ledger note)."""
        booking = config.current().booking
        if visit.by_clinic:
            return 100, "cancelled by the clinic: full refund"
        if visit.slot.starts_at - visit.updated_at >= timedelta(hours=booking.cancellation_hours):
            return 100, "cancelled in time: full refund"
        percent = booking.late_cancellation_refund_percent
        return percent, f"late cancellation: {percent}% refund"

    def payment(self, visit: _Visit) -> list[dict[str, Any]]:
        rng = self.rng
        price = self.doctor_rows[visit.slot.doctor]["fee"]
        by = self.users["patient"]["id"] if visit.created_by == self.users["patient"]["id"] else self.reception
        if visit.pay_after_visit:
            paid_at = min(visit.slot.ends_at + self.minutes(1, 15), self.now)
        else:
            latest = visit.updated_at if visit.status == "cancelled" else min(visit.slot.starts_at, self.now)
            paid_at = visit.created_at + min(self.minutes(0, 10), (latest - visit.created_at) / 2)
        refunded, note = self.refund_share(visit) if visit.status == "cancelled" else (0, "")
        refunded = price * refunded // 100
        rows = []
        if visit.pay == "card" and rng.random() < 0.06:
            rows.append(
                {
                    "appointment": visit.id,
                    "method": "card",
                    "amount": price,
                    "refunded_amount": 0,
                    "status": "declined",
                    "card_last4": f"{rng.randint(0, 9999):04d}",
                    "idempotency_key": None,
                    "failure_reason": rng.choice(("card declined by the issuer", "card expired")),
                    "actor": by,
                    "created_at": paid_at - timedelta(seconds=rng.randint(30, 120)),
                }
            )
        rows.append(
            {
                "appointment": visit.id,
                "method": visit.pay,
                "amount": price,
                "refunded_amount": refunded,
                "status": "succeeded",
                "card_last4": f"{rng.randint(0, 9999):04d}" if visit.pay == "card" else None,
                "idempotency_key": None,
                "failure_reason": "",
                "actor": by,
                "created_at": paid_at,
            }
        )
        if visit.pay == "wallet":
            self.wallet_events[visit.patient].append((paid_at, 1, "payment", price, visit.id, ""))
        if refunded:
            self.wallet_events[visit.patient].append((visit.updated_at, 2, "refund", refunded, visit.id, note))
        return rows

    def ledger(self) -> None:
        """Each wallet's entries in time order; top-ups come before payments that need them."""
        rng = self.rng
        entries: list[dict[str, Any]] = []
        for patient, wallet in self.wallet_of.items():
            events = sorted(self.wallet_events[patient])
            balance, mine = 0, []
            if patient in self.opened_wallet:  # else a refund opened it
                opened = self.between(self.patient_rows[patient]["created_at"], self.now - timedelta(days=1))
                if events and events[0][0] <= opened:
                    opened = events[0][0] - self.minutes(10, 600)
                balance = rng.choice((50, 100, 150, 200, 300)) * 100
                mine.append(self.entry(wallet, "deposit", balance, balance, None, opened, "cash at the desk"))
            for at, _order, kind, amount, appointment, note in events:
                if kind == "payment" and balance < amount:
                    top_up = -(-(amount - balance) // 5000) * 5000 + rng.choice((0, 0, 5000, 10000))
                    last = mine[-1]["at"] if mine else at - timedelta(hours=1)
                    balance += top_up
                    top_up_at = at - min(self.minutes(1, 20), (at - last) / 2)
                    mine.append(self.entry(wallet, "deposit", top_up, balance, None, top_up_at, "card top-up"))
                balance += amount if kind == "refund" else -amount
                mine.append(self.entry(wallet, kind, amount, balance, appointment, at, note))
            if balance >= 15000 and rng.random() < 0.2:
                amount = balance // 2 // 1000 * 1000
                balance -= amount
                at = self.between(mine[-1]["at"], self.now)
                mine.append(self.entry(wallet, "withdrawal", amount, balance, None, at, "paid out at the desk"))
            elif rng.random() < 0.25 or (patient == self.demo_patient and balance == 0):
                amount = rng.choice((50, 100)) * 100
                balance += amount
                at = self.between(mine[-1]["at"], self.now)
                mine.append(self.entry(wallet, "deposit", amount, balance, None, at, "cash at the desk"))
            self.rows[Wallet].append(
                {"id": wallet, "patient": patient, "balance": balance, "updated_at": mine[-1]["at"]}
            )
            entries.extend(mine)
        entries = [row for *_, row in sorted((row["at"], row["wallet"], n, row) for n, row in enumerate(entries))]
        for number, row in enumerate(entries, start=1):
            row["id"] = number
        self.rows[LedgerEntry] = entries

    def entry(
        self, wallet: int, kind: str, amount: int, balance_after: int, appointment: int | None, at: datetime, note: str
    ) -> dict[str, Any]:
        row = {
            "wallet": wallet,
            "kind": kind,
            "amount": amount,
            "balance_after": balance_after,
            "appointment": appointment,
            "idempotency_key": None,
            "actor": self.reception,
            "note": note,
            "at": at,
        }
        if kind == "deposit":
            self.ledger_deposits.append(row)
        return row

    # -- reviews --

    def reviews(self) -> None:
        rng, data = self.rng, self.data
        rows: list[dict[str, Any]] = []
        for visit in self.visits:
            if visit.status != "completed":
                continue
            if visit.curated:
                state = visit.review
            else:
                state = "written" if rng.random() < 0.45 else None
            if state is None:
                continue
            created = visit.slot.ends_at + self.minutes(60, (24 if visit.curated else 96) * 60)
            if created > self.now:
                continue  # not written yet
            rating = rng.choices((5, 4, 3, 2, 1), (45, 30, 12, 7, 6))[0]
            moderated = created + self.minutes(30, 2 * 24 * 60)
            if state == "written":
                if rng.random() < 0.2 or moderated > self.now:
                    state = "pending"
                else:
                    state = "approved" if rng.random() < 0.85 else "rejected"
            moderated = min(moderated, self.now)
            row = {
                "appointment": visit.id,
                "doctor": visit.slot.doctor,
                "patient": visit.patient,
                "rating": rating,
                "comment": rng.choice(data["review_comments"][str(rating)]),
                "status": state,
                "reject_reason": "",
                "doctor_response": "",
                "responded_at": None,
                "moderated_by": self.admin if state != "pending" else None,
                "moderated_at": moderated if state != "pending" else None,
                "created_at": created,
            }
            if state == "rejected":
                row["comment"], row["reject_reason"] = rng.choice(data["rejectable_comments"])
            if state == "approved":
                doctor = self.doctor_rows[visit.slot.doctor]
                doctor["rating_count"] += 1
                doctor["rating_total"] += rating
                responded = moderated + self.minutes(60, 3 * 24 * 60)
                if (visit.curated or rng.random() < 0.35) and responded <= self.now:
                    row["doctor_response"] = rng.choice(data["doctor_responses"])
                    row["responded_at"] = responded
            rows.append(row)
        rows.sort(key=lambda row: (row["created_at"], row["appointment"]))
        for number, row in enumerate(rows, start=1):
            row["id"] = number
        self.rows[Review] = rows

    # -- mail --

    def mail(self) -> None:
        """The last two days of appointment mail: mostly sent, the newest waiting, a few failed."""
        rng = self.rng
        since = self.now - MAIL_WINDOW
        events: list[tuple[datetime, int, str, _Visit]] = []
        for visit in self.visits:
            if visit.created_at >= since:
                events.append((visit.created_at, visit.id, "booked", visit))
            changed = visit.updated_at >= since and visit.updated_at > visit.created_at
            if changed and visit.status in ("confirmed", "cancelled"):
                events.append((visit.updated_at, visit.id, visit.status, visit))
            starts = visit.slot.starts_at
            if visit.status in ("pending", "confirmed") and self.now < starts <= self.now + timedelta(hours=24):
                if not self.patient_rows[visit.patient]["reminders_opt_out"]:
                    reminded = max(starts - timedelta(hours=24), visit.created_at + timedelta(minutes=1))
                    events.append((reminded, visit.id, "reminder", visit))
        events.sort(key=lambda event: event[:3])
        rows = []
        for number, (at, _id, event, visit) in enumerate(events, start=1):
            row = self.outbox_row(visit, event, at)
            row["id"] = number
            if at > self.now - timedelta(hours=2):
                pass  # the newest still wait for `clinic-desk mail send`
            elif rng.random() < 0.08:
                self.fail(row, rng.choice(self.data["mail_errors"]))
            else:
                row.update(status="sent", attempts=1, sent_at=at + timedelta(seconds=rng.randint(5, 90)))
            rows.append(row)
        states = {row["status"] for row in rows}
        if "failed" not in states and len(rows) > 2:
            self.fail(rows[0], self.data["mail_errors"][0])
        if "pending" not in states and rows:
            rows[-1].update(status="pending", attempts=0, sent_at=None)
        self.rows[Outbox] = rows

    def fail(self, row: dict[str, Any], error: str) -> None:
        attempts = 1 if error.startswith("5") else SMTP_MAX_ATTEMPTS
        row.update(
            status="failed",
            attempts=attempts,
            last_error=error,
            sent_at=None,
            next_attempt_at=row["created_at"] + timedelta(minutes=2**attempts),
        )

    def outbox_row(self, visit: _Visit, event: str, at: datetime) -> dict[str, Any]:
        appointment = self.rows[Appointment][visit.id - 1]
        patient = self.patient_rows[visit.patient]
        doctor = self.doctor_rows[visit.slot.doctor]
        starts, ends = visit.slot.starts_at.astimezone(self.tz), visit.slot.ends_at.astimezone(self.tz)
        status = {"booked": "pending", "reminder": visit.status}.get(event, event)
        row = Appointment(**{**appointment, "status": status})  # joined like ics.appointment_rows
        row.patient = Patient(**patient)
        row.doctor = Doctor(**doctor)
        row.doctor.user = User(**self.rows[User][doctor["user"] - 1])
        context = {
            "appointment": row,
            "patient_name": patient["full_name"],
            "patient_email": patient["email"],
            "doctor_name": row.doctor.user.full_name,
            "room": doctor["room"],
            "date": starts.strftime("%A %d %B %Y"),
            "time": starts.strftime("%H:%M"),
            "end_time": ends.strftime("%H:%M"),
            "price": f"{format_money(appointment['price'])} {config.current().clinic.currency}",
            "reason": visit.reason,
            "cancel_reason": visit.cancel_reason if event == "cancelled" else "",
            "status": status,
        }
        subject, text, html = notify.render(f"appointment_{event}", context)
        return {
            "to_addr": patient["email"],
            "subject": subject[:255],
            "text_body": text,
            "html_body": html,
            "attachments": "[]",
            "kind": f"appointment_{event}",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": at,
            "claimed_until": None,
            "last_error": "",
            "sent_at": None,
            "created_at": at,
            "dedupe_key": None,
            "appointment": visit.id,
        }

    # -- audit --

    def audit(self) -> None:
        """A few recent events, so the audit log is not empty."""
        names = {row["id"]: row["username"] for row in self.rows[User]}
        events: list[tuple[datetime, int | None, str, str, int | None, dict[str, Any]]] = []
        for visit in sorted(self.visits, key=lambda v: v.created_at)[-5:]:
            details = {"slot_id": visit.slot.id, "patient_id": visit.patient}
            events.append((visit.created_at, visit.created_by, "appointment.book", "appointment", visit.id, details))
        cancelled = [v for v in self.visits if v.status == "cancelled"]
        for visit in sorted(cancelled, key=lambda v: v.updated_at)[-2:]:
            details = {"reason": visit.cancel_reason}
            events.append((visit.updated_at, self.reception, "appointment.cancel", "appointment", visit.id, details))
        moderated = [r for r in self.rows[Review] if r["moderated_at"] is not None]
        for review in sorted(moderated, key=lambda r: r["moderated_at"])[-3:]:
            action = "review.approve" if review["status"] == "approved" else "review.reject"
            events.append((review["moderated_at"], self.admin, action, "review", review["id"], {}))
        for deposit in sorted(self.ledger_deposits, key=lambda r: r["at"])[-3:]:
            details = {"amount": format_money(deposit["amount"])}
            events.append((deposit["at"], self.reception, "wallet.deposit", "wallet", deposit["wallet"], details))
        events.append((self.now, None, "demo.seed", "database", None, {"seed": SEED}))
        events.sort(key=lambda event: (event[0], event[2], event[4] or 0))
        self.rows[AuditEvent] = [
            {
                "id": number,
                "actor": actor,
                "actor_name": names.get(actor, "system") if actor else "system",
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "details": json.dumps(details, sort_keys=True),
                "at": at,
            }
            for number, (at, actor, action, entity, entity_id, details) in enumerate(events, start=1)
        ]

    # -- the logins --

    def logins(self) -> tuple[DemoLogin, ...]:
        doctor = self.doctor_ids["doctor"]
        today = sum(
            1 for v in self.visits if (v.slot.doctor, v.slot.day) == (doctor, self.today) and v.status != "cancelled"
        )
        wallet = next((row for row in self.rows[Wallet] if row["patient"] == self.demo_patient), None)
        balance = f", wallet {format_money(wallet['balance'])}" if wallet else ""
        patient = self.patient_rows[self.demo_patient]
        who = {
            "admin": f"admin ({self.users['admin']['full_name']})",
            "reception": f"reception ({self.users['reception']['full_name']})",
            "doctor": f"doctor ({self.users['doctor']['full_name']}, {today} appointments today)",
            "patient": f"patient ({patient['full_name']}, patient #{self.demo_patient}{balance})",
        }
        return tuple(
            DemoLogin(username, demo_password(username), self.users[username]["role"], who[username])
            for username in LOGIN_USERNAMES
        )
