"""The benchmark's clinic: staff, doctors and patients through the models, then (on top of the
generated slots) the 200k appointments in bulk SQL: ``COPY`` on PostgreSQL, ``executemany`` on
SQLite. Everything is seeded, so every run builds the same clinic.

The appointments follow a clinic's shape: the past half of the year is mostly booked (completed,
some no-shows and cancellations), the next eight weeks are nearly full, the far future sparse,
and some doctors are more popular than others. No patient holds two overlapping active visits
(PostgreSQL's exclusion constraint would refuse them): patients are dealt round-robin along the
time line, and at most one slot per doctor starts at any moment.
"""

from __future__ import annotations

import io
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .sizes import NOW, TIMEZONE, Sizes

SPECIALTIES = (
    "General practice",
    "Cardiology",
    "Dermatology",
    "Paediatrics",
    "Orthopaedics",
    "Neurology",
    "Gynaecology",
    "Ophthalmology",
    "Psychiatry",
    "ENT",
)
FIRST_NAMES = ("Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hannah", "Ida", "Jonas", "Karl", "Lena",
               "Mia", "Noah", "Olga", "Paul", "Rosa", "Sami", "Tom", "Uta", "Vera", "Wim", "Yara", "Zoe")
LAST_NAMES = ("Adler", "Bauer", "Conrad", "Dietrich", "Engel", "Fischer", "Graf", "Hahn", "Jung", "Keller", "Lang",
              "Meyer", "Neumann", "Otto", "Peters", "Roth", "Schmidt", "Vogel", "Weber", "Ziegler")
REASONS = ("check-up", "follow-up", "vaccination", "back pain", "blood test results", "prescription", "", "")
NEAR_WEEKS = 8
SEED = 10


@dataclass(frozen=True)
class People:
    admin_id: int
    reception_id: int
    doctor_ids: list[int]
    usernames: dict[int, str]
    fees: dict[int, int]
    popularity: dict[int, float]
    specialty: dict[int, str]
    patient_ids: list[int]  # the ones that get appointments
    walk_in_ids: list[int]  # kept free of appointments for the booking race

    def actor(self, role: str):
        from clinic_desk.services.actors import Actor

        if role == "admin":
            return Actor(user_id=self.admin_id, username="bench.admin", role="admin")
        return Actor(user_id=self.reception_id, username="bench.desk", role="reception")


@dataclass(frozen=True)
class Dataset:
    people: People
    appointments: int
    busiest_doctor: int
    agenda_day: date  # the busiest doctor's busiest day after "now"
    agenda_rows: int
    hot_slots: list[int]  # free future slots the race books
    warm_up_slots: list[int]  # one per race worker, booked before the clock starts
    load_seconds: float

    @property
    def busiest_username(self) -> str:
        return self.people.usernames[self.busiest_doctor]


# -- people -----------------------------------------------------------------------------


def create_people(sizes: Sizes) -> People:
    """Admin, reception, the doctors with their specialties, the patients (models, bulk inserts;
    one argon2 hash shared by every account instead of one each)."""
    from peewee import chunked

    from clinic_desk.services.accounts import hash_password
    from clinic_desk.store.db import db
    from clinic_desk.store.models import Doctor, DoctorSpecialty, Patient, Specialty, User

    rng = random.Random(SEED)
    password_hash = hash_password("bench-password-" + str(rng.random()))
    created = NOW - timedelta(days=400)
    user = dict(phone="", password_hash=password_hash, is_active=True, email_verified_at=created, created_at=created)
    with db.atomic():
        admin_id = User.insert(username="bench.admin", email="admin@bench.test", full_name="Bench Admin", role="admin", **user).execute()
        reception_id = User.insert(username="bench.desk", email="desk@bench.test", full_name="Bench Desk", role="reception", **user).execute()
        specialty_ids = [Specialty.insert(name=name).execute() for name in SPECIALTIES]
        usernames, fees, popularity, specialty = {}, {}, {}, {}
        for n in range(sizes.doctors):
            username = f"dr.{n + 1:03d}"
            user_id = User.insert(
                username=username,
                email=f"{username}@bench.test",
                full_name=f"Dr. {FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n * 7) % len(LAST_NAMES)]}",
                role="doctor",
                **user,
            ).execute()
            fee = rng.randrange(50, 151) * 100
            doctor_id = Doctor.insert(user=user_id, room=f"{100 + n}", fee=fee, bio="").execute()
            DoctorSpecialty.insert(doctor=doctor_id, specialty=specialty_ids[n % len(SPECIALTIES)]).execute()
            usernames[doctor_id], fees[doctor_id] = username, fee
            popularity[doctor_id] = 0.7 + 0.6 * rng.random()
            specialty[doctor_id] = SPECIALTIES[n % len(SPECIALTIES)]
        rows = (
            {
                "full_name": f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]} {n}",
                "email": f"patient{n}@bench.test",
                "phone": f"+49 30 {1000000 + n}",
                "date_of_birth": date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 80)),
                "created_at": created,
            }
            for n in range(sizes.patients)
        )
        for batch in chunked(rows, 1000):
            Patient.insert_many(batch).execute()
    patient_ids = [p for (p,) in Patient.select(Patient.id).order_by(Patient.id).tuples()]
    walk_ins = sizes.walk_ins
    return People(
        admin_id=admin_id,
        reception_id=reception_id,
        doctor_ids=list(usernames),
        usernames=usernames,
        fees=fees,
        popularity=popularity,
        specialty=specialty,
        patient_ids=patient_ids[:-walk_ins],
        walk_in_ids=patient_ids[-walk_ins:],
    )


# -- appointments ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    id: int
    doctor_id: int
    start: int  # epoch seconds
    start_text: str  # as stored (SQLite) or as COPY reads it (PostgreSQL)
    end_text: str


def _slots(pg: bool) -> list[_Slot]:
    from clinic_desk.store.db import db

    if pg:
        sql = ("SELECT id, doctor_id, CAST(EXTRACT(EPOCH FROM starts_at) AS BIGINT), starts_at::text, ends_at::text"
               " FROM time_slot ORDER BY starts_at, doctor_id")
    else:
        sql = ("SELECT id, doctor_id, CAST(strftime('%s', starts_at) AS INTEGER), starts_at, ends_at"
               " FROM time_slot ORDER BY starts_at, doctor_id")
    return [_Slot(*row) for row in db.execute_sql(sql).fetchall()]


def _chosen(slots: list[_Slot], people: People, count: int, rng: random.Random) -> list[_Slot]:
    """``count`` slots, the likelier the more popular the doctor and the nearer to now."""
    now = int(NOW.timestamp())
    near = now + NEAR_WEEKS * 7 * 86400

    def weight(slot: _Slot) -> float:
        base = 0.62 if slot.start < now else 0.92 if slot.start < near else 0.14
        return base * people.popularity[slot.doctor_id]

    weights = [weight(s) for s in slots]
    lo, hi = 0.0, 4.0
    for _ in range(40):  # the scale at which the expected count is ``count``
        scale = (lo + hi) / 2
        expected = sum(min(0.97, w * scale) for w in weights)
        lo, hi = (scale, hi) if expected < count else (lo, scale)
    picked = [i for i, w in enumerate(weights) if rng.random() < min(0.97, w * scale)]
    if len(picked) > count:
        picked = sorted(rng.sample(picked, count))
    elif len(picked) < count:
        taken = set(picked)
        rest = [i for i in range(len(slots)) if i not in taken]
        picked = sorted(picked + rng.sample(rest, count - len(picked)))
    return [slots[i] for i in picked]


def _status(start: int, rng: random.Random) -> str:
    roll = rng.random()
    if start < NOW.timestamp():
        return "completed" if roll < 0.80 else "no_show" if roll < 0.86 else "cancelled"
    return "confirmed" if roll < 0.55 else "pending" if roll < 0.90 else "cancelled"


def _pg_text(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(epoch))


def load_appointments(people: People, sizes: Sizes) -> Dataset:
    """Book ``sizes.appointments`` of the generated slots in bulk SQL, plus card payments for most
    completed visits; then pick the race's hot set and the busiest doctor's day."""
    from clinic_desk.store.db import db, is_postgres
    from clinic_desk.store.fields import to_sqlite_text

    started = time.perf_counter()
    pg = is_postgres()
    rng = random.Random(SEED + 1)
    slots = _slots(pg)
    chosen = _chosen(slots, people, sizes.appointments, rng)
    pool = list(people.patient_ids)
    rng.shuffle(pool)
    now = int(NOW.timestamp())
    stamp = _pg_text if pg else (lambda epoch: to_sqlite_text(datetime.fromtimestamp(epoch, UTC)))
    rows = []
    active_slots: set[int] = set()
    for n, slot in enumerate(chosen):  # chosen is in time order: round-robin keeps patients apart
        status = _status(slot.start, rng)
        created = min(slot.start - rng.randrange(1, 60) * 86400, now - rng.randrange(3600, 3 * 86400))
        updated = slot.start + 1800 if status in ("completed", "no_show") and slot.start < now else created
        if status != "cancelled":
            active_slots.add(slot.id)
        rows.append((
            slot.id, pool[n % len(pool)], slot.doctor_id, slot.start_text, slot.end_text, status,
            REASONS[n % len(REASONS)], "", people.fees[slot.doctor_id], people.reception_id,
            "patient called to cancel" if status == "cancelled" else "", stamp(created), stamp(updated), 0,
        ))
    columns = ("slot_id, patient_id, doctor_id, starts_at, ends_at, status, reason, notes, price, created_by_id,"
               " cancel_reason, created_at, updated_at, ics_sequence")
    with db.atomic():
        cursor = db.connection().cursor()
        for first in range(0, len(rows), 50_000):
            batch = rows[first:first + 50_000]
            if pg:
                text = "".join("\t".join(map(str, row)) + "\n" for row in batch)
                cursor.copy_expert(f"COPY appointment ({columns}) FROM STDIN", io.StringIO(text))
            else:
                cursor.executemany(f"INSERT INTO appointment ({columns}) VALUES ({', '.join('?' * 14)})", batch)
        cursor.close()
        db.execute_sql(
            "INSERT INTO payment (appointment_id, method, amount, refunded_amount, status, card_last4,"
            " failure_reason, actor_id, created_at)"
            " SELECT id, 'card', price, 0, 'succeeded', '4242', '', created_by_id, ends_at FROM appointment"
            f" WHERE status = 'completed' AND price > 0 AND id {'%%' if pg else '%'} 10 < 7"
        )
    if pg:
        db.execute_sql("VACUUM ANALYZE")  # what autovacuum does after a load this size
    seconds = time.perf_counter() - started
    busiest = Counter(slot.doctor_id for slot in chosen if slot.id in active_slots).most_common(1)[0][0]
    day, agenda_rows = _busiest_day(chosen, busiest)
    free_later = [s.id for s in slots if s.start >= now + 2 * 86400 and s.id not in active_slots]
    hot = free_later[: sizes.race_slots]
    warm_up = free_later[sizes.race_slots : sizes.race_slots + sizes.race_workers]
    return Dataset(people, len(rows), busiest, day, agenda_rows, hot, warm_up, seconds)


def _busiest_day(chosen: list[_Slot], doctor_id: int) -> tuple[date, int]:
    tz = ZoneInfo(TIMEZONE)
    today = NOW.astimezone(tz).date()
    days = Counter(
        datetime.fromtimestamp(s.start, tz).date() for s in chosen if s.doctor_id == doctor_id
    )
    day, count = max(((d, c) for d, c in days.items() if d >= today), key=lambda item: (item[1], -item[0].toordinal()))
    return day, count
