"""Doctors and their specialties: add, edit, show, and the one-query doctor list.

``list_doctors`` answers the whole doctors screen in a single SELECT: each doctor's specialties and
next free slot come from correlated subqueries (index-backed), never one query per doctor.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from peewee import SQL, fn

from ..errors import BadInput, NotFound
from ..store.db import is_postgres
from ..store.fields import from_db
from ..store.models import Appointment, Doctor, DoctorSpecialty, Specialty, TimeSlot, User
from . import audit, clock, policy
from .actors import Actor
from .contact import clean_multiline, clean_text
from .money import format_money, max_amount
from .tx import reads, writes

MAX_BIO = 4000


@dataclass(frozen=True)
class DoctorView:
    id: int
    username: str
    full_name: str
    email: str
    specialties: list[str]
    fee: int  # minor units
    rating: float | None  # average of approved reviews, None while there are none
    reviews: int
    room: str
    bio: str
    active: bool
    next_free: datetime | None = field(default=None)


def average(total: int, count: int) -> float | None:
    """The mean rating shown for a doctor (two decimals), or None without approved reviews."""
    if not count:
        return None
    return float((Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))  # 4.125 -> 4.13


def find_doctor(ref: str | int) -> Doctor:
    """The doctor by username (as typed at the CLI) or by id (as the TUI holds it); NotFound otherwise."""
    query = Doctor.select(Doctor, User).join(User, on=(Doctor.user == User.id))
    if isinstance(ref, int):
        doctor = query.where(Doctor.id == ref).first()
    else:
        doctor = query.where(User.username == str(ref).strip()).first()
    if doctor is None:
        raise NotFound(f"unknown doctor {ref!r}")
    return doctor


def doctor_usernames(doctor_ids: Iterable[int]) -> dict[int, str]:
    """Usernames for a few doctor ids, in one query."""
    ids = sorted(set(doctor_ids))
    if not ids:
        return {}
    rows = Doctor.select(Doctor.id, User.username).join(User, on=(Doctor.user == User.id)).where(Doctor.id.in_(ids))
    return {doctor_id: username for doctor_id, username in rows.tuples()}


def _specialties_subquery():
    aggregate = fn.json_agg(Specialty.name) if is_postgres() else fn.json_group_array(Specialty.name)
    return (
        DoctorSpecialty.select(aggregate)
        .join(Specialty, on=(DoctorSpecialty.specialty == Specialty.id))
        .where(DoctorSpecialty.doctor == Doctor.id)
    )


def next_free_subquery(doctor_column, after: datetime):
    """The start of the doctor's first open, unbooked slot after ``after`` (a correlated subquery)."""
    free = TimeSlot.alias("free_slot")
    busy = Appointment.alias("busy")
    taken = busy.select(SQL("1")).where((busy.slot == free.id) & (busy.status != "cancelled"))
    return (
        free.select(free.starts_at)
        .where((free.doctor == doctor_column) & (free.starts_at > after) & (free.status == "open") & ~fn.EXISTS(taken))
        .order_by(free.starts_at)
        .limit(1)
    )


def _doctor_query(now: datetime):
    return Doctor.select(
        Doctor.id,
        User.username,
        User.full_name,
        User.email,
        _specialties_subquery().alias("specialty_names"),
        Doctor.fee,
        Doctor.rating_total,
        Doctor.rating_count,
        Doctor.room,
        Doctor.bio,
        Doctor.is_active,
        next_free_subquery(Doctor.id, now).alias("next_free"),
    ).join(User, on=(Doctor.user == User.id))


def _view(row: dict) -> DoctorView:
    names = row["specialty_names"]
    if isinstance(names, str):
        names = json.loads(names)
    count = row["rating_count"] or 0
    return DoctorView(
        id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        email=row["email"],
        specialties=sorted(name for name in (names or []) if name is not None),
        fee=row["fee"],
        rating=average(row["rating_total"], count),
        reviews=count,
        room=row["room"],
        bio=row["bio"],
        active=bool(row["is_active"]),
        next_free=from_db(row["next_free"]),
    )


@reads
def list_doctors(
    actor: Actor,
    *,
    specialty: str | None = None,
    search: str | None = None,
    max_fee: int | None = None,
    min_rating: float | None = None,
    include_inactive: bool = False,
) -> list[DoctorView]:
    """Doctors matching every filter given, by name, each with fee, rating and next free slot."""
    policy.require(actor, "doctor.read")
    if min_rating is not None and not 1 <= min_rating <= 5:
        raise BadInput(f"--min-rating must be between 1 and 5, got {min_rating:g}")
    if max_fee is not None and max_fee < 0:
        raise BadInput("--max-fee must not be negative")
    query = _doctor_query(clock.now())
    if not include_inactive:
        query = query.where(Doctor.is_active == True)  # noqa: E712 - peewee expression
    if specialty:
        query = query.where(Doctor.id.in_(doctors_with_specialty(specialty)))
    if search and search.strip():
        text = search.strip()
        query = query.where(User.full_name.contains(text) | User.username.contains(text))
    if max_fee is not None:
        query = query.where(Doctor.fee <= max_fee)
    if min_rating is not None:
        query = query.where((Doctor.rating_count > 0) & (Doctor.rating_total >= Doctor.rating_count * min_rating))
    views = [_view(row) for row in query.order_by(User.full_name, Doctor.id).dicts()]
    if not views and specialty and not _specialty(specialty):
        raise BadInput(f"unknown specialty {specialty!r}")
    return views


def doctors_with_specialty(name: str):
    return (
        DoctorSpecialty.select(DoctorSpecialty.doctor)
        .join(Specialty, on=(DoctorSpecialty.specialty == Specialty.id))
        .where(fn.LOWER(Specialty.name) == name.strip().lower())
    )


def _specialty(name: str) -> Specialty | None:
    return Specialty.get_or_none(fn.LOWER(Specialty.name) == name.strip().lower())


@reads
def show_doctor(actor: Actor, ref: str | int) -> DoctorView:
    policy.require(actor, "doctor.read")
    doctor = find_doctor(ref)
    return _view(_doctor_query(clock.now()).where(Doctor.id == doctor.id).dicts().get())


@reads
def list_specialties(actor: Actor) -> list[str]:
    policy.require(actor, "doctor.read")
    return [name for (name,) in Specialty.select(Specialty.name).order_by(Specialty.name).tuples()]


def _clean_specialties(names: Sequence[str]) -> list[str]:
    cleaned: dict[str, str] = {}
    for name in names:
        text = clean_text(name, what="specialty", max_length=80)
        cleaned.setdefault(text.lower(), text)
    return list(cleaned.values())


def _specialty_ids(names: Sequence[str]) -> list[int]:
    """Ids for these specialty names, creating the new ones (names match case-insensitively)."""
    ids = []
    for name in names:
        existing = _specialty(name)
        ids.append(existing.id if existing else Specialty.create(name=name).id)
    return ids


def _check_fee(fee: int) -> None:
    """A fee from zero up to the largest single payment (a larger one could never be paid)."""
    if fee < 0:
        raise BadInput("fee must not be negative")
    if fee > max_amount():
        raise BadInput(f"fee {format_money(fee)} is over the largest single payment ({format_money(max_amount())})")


@writes
def add_doctor(
    actor: Actor,
    username: str,
    *,
    full_name: str,
    email: str,
    specialties: Sequence[str],
    fee: int,
    room: str = "",
    bio: str = "",
    password: str | None = None,
) -> DoctorView:
    """A doctor and their login (role doctor), made by ``accounts.add_user`` in this transaction:
    the same checks as `user add`, and the e-mail verification code is mailed. Without
    ``password`` the account has no usable password until it is reset."""
    policy.require(actor, "doctor.manage")
    names = _clean_specialties(specialties)
    if not names:
        raise BadInput("a doctor needs at least one --specialty")
    _check_fee(fee)
    room = clean_text(room, what="room", max_length=40, required=False)
    bio = clean_multiline(bio, what="bio", max_length=MAX_BIO)
    from . import accounts  # here, not above: the read queries that import this module stay light

    user = accounts.add_user(actor, username, role="doctor", email=email, full_name=full_name, password=password)
    doctor = Doctor.create(user=user.id, fee=fee, room=room, bio=bio)
    DoctorSpecialty.insert_many(
        [{"doctor": doctor.id, "specialty": sid} for sid in _specialty_ids(names)]
    ).execute()
    audit.record(actor, "doctor.add", "doctor", doctor.id, username=user.username, specialties=names, fee=fee)
    return _view(_doctor_query(clock.now()).where(Doctor.id == doctor.id).dicts().get())


@writes
def edit_doctor(
    actor: Actor,
    ref: str | int,
    *,
    fee: int | None = None,
    room: str | None = None,
    bio: str | None = None,
    add_specialties: Sequence[str] = (),
    remove_specialties: Sequence[str] = (),
    active: bool | None = None,
) -> DoctorView:
    policy.require(actor, "doctor.manage")
    doctor = find_doctor(ref)
    changes: dict[str, object] = {}
    if fee is not None:
        _check_fee(fee)
        changes["fee"] = fee
    if room is not None:
        changes["room"] = clean_text(room, what="room", max_length=40, required=False)
    if bio is not None:
        changes["bio"] = clean_multiline(bio, what="bio", max_length=MAX_BIO)
    if active is not None:
        changes["is_active"] = active
    if changes:
        Doctor.update(**changes).where(Doctor.id == doctor.id).execute()
    added = _clean_specialties(add_specialties)
    removed = _clean_specialties(remove_specialties)
    if added or removed:
        _change_specialties(doctor, added, removed)
    if not (changes or added or removed):
        raise BadInput("nothing to change: give at least one option (see --help)")
    audit.record(
        actor, "doctor.edit", "doctor", doctor.id, **changes, added_specialties=added, removed_specialties=removed
    )
    return _view(_doctor_query(clock.now()).where(Doctor.id == doctor.id).dicts().get())


def _change_specialties(doctor: Doctor, added: list[str], removed: list[str]) -> None:
    current = {
        name.lower(): sid
        for sid, name in DoctorSpecialty.select(Specialty.id, Specialty.name)
        .join(Specialty, on=(DoctorSpecialty.specialty == Specialty.id))
        .where(DoctorSpecialty.doctor == doctor.id)
        .tuples()
    }
    both = {name.lower() for name in added} & {name.lower() for name in removed}
    if both:
        raise BadInput(f"--add-specialty and --remove-specialty both name {sorted(both)[0]!r}: choose one")
    for name in removed:
        if name.lower() not in current:
            raise BadInput(f"{doctor.user.username} does not have the specialty {name!r}")
    remaining = set(current) - {name.lower() for name in removed}
    new = [name for name in added if name.lower() not in current]
    if not remaining and not new:
        raise BadInput("a doctor keeps at least one specialty")
    if removed:
        DoctorSpecialty.delete().where(
            (DoctorSpecialty.doctor == doctor.id) & DoctorSpecialty.specialty.in_([current[n.lower()] for n in removed])
        ).execute()
    if new:
        DoctorSpecialty.insert_many([{"doctor": doctor.id, "specialty": sid} for sid in _specialty_ids(new)]).execute()
