"""`clinic-desk demo`: the seeded clinic is complete, keeps every invariant, is deterministic, and
never overwrites a real clinic's data without --reset."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta

import pytest

from clinic_desk.errors import AuthenticationFailed, Refused
from clinic_desk.services import accounts, clock, demo, timeutil
from clinic_desk.store.db import db as proxy
from clinic_desk.store.models import (
    ALL_MODELS,
    APPOINTMENT_STATUSES,
    LEDGER_KINDS,
    REVIEW_STATUSES,
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
from tests.factories import make_patient, make_user


def sql_rows(statement: str) -> list[tuple]:
    return list(proxy.execute_sql(statement).fetchall())


def sql_value(statement: str):
    return proxy.execute_sql(statement).fetchone()[0]


@pytest.fixture
def seeded(db, frozen_clock) -> demo.DemoSummary:
    return demo.seed()


def local_day(instant: datetime) -> date:
    return timeutil.to_local(instant).date()


# -- what is seeded ---------------------------------------------------------------


def test_seeding_gives_the_promised_clinic(seeded, frozen_clock):
    assert Specialty.select().count() == 12
    assert Doctor.select().count() == 25
    assert Patient.select().count() == 300
    assert User.select().count() == 28  # admin, reception, 25 doctors, the patient login
    assert {role: User.select().where(User.role == role).count() for role in ("admin", "reception", "patient")} == {
        "admin": 1,
        "reception": 1,
        "patient": 1,
    }
    for doctor in Doctor.select():
        links = DoctorSpecialty.select().where(DoctorSpecialty.doctor == doctor).count()
        assert 1 <= links <= 2
        assert 6000 <= doctor.fee <= 18000 and doctor.fee % 500 == 0
        assert doctor.room and doctor.bio
    assert len({d.room for d in Doctor.select()}) == 25
    assert all(p.full_name and "@" in p.email and p.phone and p.date_of_birth for p in Patient.select())

    appointments = Appointment.select().count()
    assert 300 <= appointments <= 1500
    statuses = {row.status for row in Appointment.select(Appointment.status).distinct()}
    assert statuses == set(APPOINTMENT_STATUSES)
    assert {row.kind for row in LedgerEntry.select(LedgerEntry.kind).distinct()} == set(LEDGER_KINDS)
    assert {row.method for row in Payment.select(Payment.method).distinct()} == {"wallet", "card"}
    assert {row.status for row in Review.select(Review.status).distinct()} == set(REVIEW_STATUSES)
    assert Review.select().where(Review.doctor_response != "").count() > 0
    assert {row.status for row in Outbox.select(Outbox.status).distinct()} >= {"pending", "sent", "failed"}
    assert Outbox.select().where((Outbox.status == "failed") & (Outbox.last_error == "")).count() == 0
    assert Outbox.select().where((Outbox.status == "sent") & Outbox.sent_at.is_null()).count() == 0
    assert AuditEvent.select().count() > 0
    assert Wallet.select().count() >= 100

    # The summary tells the truth about what is in the database.
    for model in ALL_MODELS:
        assert seeded.counts.get(model._meta.table_name, 0) == model.select().count()
    text = "\n".join(seeded.lines())
    for username in demo.LOGIN_USERNAMES:
        assert f"{username}" in text and f"demo-{username}-pass" in text


def test_slots_cover_four_weeks_back_and_four_ahead_of_today(seeded, frozen_clock):
    today = local_day(frozen_clock)
    days = {local_day(row.starts_at) for row in TimeSlot.select(TimeSlot.starts_at)}
    assert today - timedelta(days=28) <= min(days) <= today - timedelta(days=26)
    assert today + timedelta(days=25) <= max(days) <= today + timedelta(days=27)
    assert today in days
    assert TimeSlot.select().where(TimeSlot.status == "blocked").count() > 0
    booked_blocked = (
        Appointment.select()
        .join(TimeSlot)
        .where((TimeSlot.status == "blocked") & (Appointment.status != "cancelled"))
        .count()
    )
    assert booked_blocked == 0


def test_slots_stay_at_local_wall_clock_times_across_daylight_saving(db):
    # Sunday 28 March 2027: Berlin moves from CET to CEST; the demo spans both sides.
    with clock.frozen(datetime(2027, 3, 28, 9, 0, tzinfo=UTC)):
        demo.seed()
        today = local_day(clock.now())
        allowed = {
            (datetime.combine(today, session) + timedelta(minutes=30 * n)).time()
            for session in (time(9, 0), time(13, 30))
            for n in range(7)
        }
        login_doctor = Doctor.get(Doctor.user == User.get(User.username == "doctor").id)
        for slot in TimeSlot.select():
            local_start = timeutil.to_local(slot.starts_at)
            assert local_start.time() in allowed, local_start
            assert slot.ends_at - slot.starts_at == timedelta(minutes=30)
            if local_start.weekday() >= 5:  # only the login doctor's weekend surgery, today
                assert (slot.doctor_id, local_start.date()) == (login_doctor.id, today)
        nine = {
            local_day(s.starts_at): s.starts_at.hour
            for s in TimeSlot.select().where(TimeSlot.doctor == login_doctor)
            if timeutil.to_local(s.starts_at).time() == time(9, 0)
        }
        assert nine[date(2027, 3, 26)] == 8  # 09:00 CET
        assert nine[date(2027, 3, 29)] == 7  # 09:00 CEST
        # Even on a Sunday the doctor login has a day to look at.
        first, last = timeutil.local_day_bounds(today)
        todays = Appointment.select().where(
            (Appointment.doctor == login_doctor)
            & (Appointment.starts_at >= first)
            & (Appointment.starts_at < last)
            & (Appointment.status != "cancelled")
        )
        assert todays.count() >= 3


# -- the invariants, checked in SQL -------------------------------------------------


def test_bookings_never_collide(seeded):
    assert sql_rows(
        "SELECT slot_id FROM appointment WHERE status <> 'cancelled' GROUP BY slot_id HAVING COUNT(*) > 1"
    ) == []
    for owner in ("patient_id", "doctor_id"):
        overlaps = sql_value(
            f"SELECT COUNT(*) FROM appointment a JOIN appointment b ON a.{owner} = b.{owner} AND a.id < b.id "
            "WHERE a.status <> 'cancelled' AND b.status <> 'cancelled' "
            "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
        )
        assert overlaps == 0, owner
    # Each appointment carries its slot's doctor and times, and the doctor's fee.
    assert sql_value(
        "SELECT COUNT(*) FROM appointment a JOIN time_slot s ON s.id = a.slot_id JOIN doctor d ON d.id = a.doctor_id "
        "WHERE a.doctor_id <> s.doctor_id OR a.starts_at <> s.starts_at OR a.ends_at <> s.ends_at OR a.price <> d.fee"
    ) == 0


def test_statuses_fit_the_clock(seeded, frozen_clock):
    now = frozen_clock
    assert Appointment.select().where((Appointment.status == "pending") & (Appointment.starts_at <= now)).count() == 0
    finished = Appointment.status.in_(("completed", "no_show"))
    assert Appointment.select().where(finished & (Appointment.ends_at > now)).count() == 0
    # Nothing happened in the future.
    assert Appointment.select().where((Appointment.created_at > now) | (Appointment.updated_at > now)).count() == 0
    assert Appointment.select().where(Appointment.created_at > Appointment.starts_at).count() == 0
    assert LedgerEntry.select().where(LedgerEntry.at > now).count() == 0
    assert Payment.select().where(Payment.created_at > now).count() == 0
    late_review = (Review.created_at > now) | (Review.moderated_at > now) | (Review.responded_at > now)
    assert Review.select().where(late_review).count() == 0
    assert Outbox.select().where((Outbox.created_at > now) | (Outbox.sent_at > now)).count() == 0
    assert Patient.select().where(Patient.created_at > now).count() == 0


def test_every_wallet_equals_its_ledger_and_never_went_below_zero(seeded):
    mismatched = sql_rows(
        "SELECT w.id FROM wallet w LEFT JOIN ledger_entry e ON e.wallet_id = w.id GROUP BY w.id, w.balance "
        "HAVING w.balance <> COALESCE(SUM(CASE WHEN e.kind IN ('withdrawal', 'payment') "
        "THEN -e.amount ELSE e.amount END), 0)"
    )
    assert mismatched == []
    assert sql_value("SELECT COUNT(*) FROM wallet WHERE balance < 0") == 0
    running = sql_rows(
        "SELECT wallet_id, balance_after, "
        "SUM(CASE WHEN kind IN ('withdrawal', 'payment') THEN -amount ELSE amount END) "
        "OVER (PARTITION BY wallet_id ORDER BY id) FROM ledger_entry"
    )
    assert running and all(after == total and after >= 0 for _, after, total in running)
    # Entries are numbered in time order, so "history" reads top to bottom.
    previous: dict[int, datetime] = {}
    for entry in LedgerEntry.select().order_by(LedgerEntry.id):
        assert entry.at >= previous.get(entry.wallet_id, entry.at)
        previous[entry.wallet_id] = entry.at


def test_payments_match_the_ledger_and_the_price(seeded):
    # Every wallet payment in the ledger is one succeeded wallet Payment of the same appointment and amount.
    assert sql_rows(
        "SELECT e.id FROM ledger_entry e LEFT JOIN payment p ON p.appointment_id = e.appointment_id "
        "AND p.status = 'succeeded' AND p.method = 'wallet' AND p.amount = e.amount "
        "WHERE e.kind = 'payment' AND p.id IS NULL"
    ) == []
    assert sql_value("SELECT COUNT(*) FROM payment WHERE method = 'wallet' AND status = 'succeeded'") == sql_value(
        "SELECT COUNT(*) FROM ledger_entry WHERE kind = 'payment'"
    )
    # Refunds land in the wallet, and equal what the payment says was refunded.
    assert sql_rows(
        "SELECT p.id FROM payment p "
        "LEFT JOIN ledger_entry e ON e.appointment_id = p.appointment_id AND e.kind = 'refund' "
        "WHERE p.status = 'succeeded' AND p.refunded_amount <> COALESCE(e.amount, 0)"
    ) == []
    assert sql_value(
        "SELECT COUNT(*) FROM ledger_entry e JOIN appointment a ON a.id = e.appointment_id "
        "JOIN wallet w ON w.id = e.wallet_id WHERE w.patient_id <> a.patient_id"
    ) == 0
    assert sql_value(
        "SELECT COUNT(*) FROM payment p JOIN appointment a ON a.id = p.appointment_id "
        "WHERE p.amount <> a.price OR (p.refunded_amount > 0 AND a.status <> 'cancelled') "
        "OR (p.status = 'succeeded' AND a.status = 'pending')"
    ) == 0
    assert sql_value("SELECT COUNT(*) FROM payment WHERE method = 'card' AND card_last4 IS NULL") == 0


def test_reviews_only_on_completed_visits_and_ratings_match(seeded):
    assert sql_value(
        "SELECT COUNT(*) FROM review r JOIN appointment a ON a.id = r.appointment_id "
        "WHERE a.status <> 'completed' OR r.doctor_id <> a.doctor_id OR r.patient_id <> a.patient_id "
        "OR r.created_at < a.ends_at"
    ) == 0
    assert sql_rows(
        "SELECT d.id FROM doctor d LEFT JOIN review r ON r.doctor_id = d.id AND r.status = 'approved' "
        "GROUP BY d.id, d.rating_count, d.rating_total "
        "HAVING d.rating_count <> COUNT(r.id) OR d.rating_total <> COALESCE(SUM(r.rating), 0)"
    ) == []
    assert Doctor.select().where(Doctor.rating_count > 0).count() >= 10
    moderated = Review.select().where(Review.status != "pending")
    assert all(r.moderated_by_id and r.moderated_at for r in moderated)
    assert all(r.reject_reason for r in Review.select().where(Review.status == "rejected"))


# -- logins ---------------------------------------------------------------------------


def test_the_four_logins_work_with_their_roles(seeded, frozen_clock):
    actors = {name: accounts.authenticate(name, f"demo-{name}-pass") for name in demo.LOGIN_USERNAMES}
    assert {name: actor.role for name, actor in actors.items()} == {
        "admin": "admin",
        "reception": "reception",
        "doctor": "doctor",
        "patient": "patient",
    }
    first, last = timeutil.local_day_bounds(local_day(frozen_clock))
    doctor_today = Appointment.select().where(
        (Appointment.doctor == actors["doctor"].doctor_id)
        & (Appointment.starts_at >= first)
        & (Appointment.starts_at < last)
        & (Appointment.status != "cancelled")
    )
    assert doctor_today.count() >= 3
    patient_id = actors["patient"].patient_id
    assert Wallet.get(Wallet.patient == patient_id).balance > 0
    mine = {a.status for a in Appointment.select().where(Appointment.patient == patient_id)}
    assert {"completed", "confirmed", "pending", "cancelled"} <= mine
    assert User.select().where(User.password_hash.startswith("$argon2id$")).count() == 4


def test_other_demo_users_cannot_log_in(seeded):
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("mbauer", "demo-mbauer-pass")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("mbauer", "!")


# -- determinism, replacing and refusing ---------------------------------------------


def digest() -> dict[str, str]:
    """A fingerprint of each table's rows, password hashes left out (argon2 salts them)."""
    prints = {}
    for model in ALL_MODELS:
        fields = [f for f in model._meta.sorted_fields if f.name != "password_hash"]
        key = getattr(model._meta.primary_key, "field_names", None)
        order = [model._meta.fields[name] for name in key] if key else [model._meta.primary_key]
        hasher = hashlib.sha256()
        for row in model.select(*fields).order_by(*order).tuples():
            hasher.update(repr(row).encode())
        prints[model._meta.table_name] = hasher.hexdigest()[:16]
    return prints


def test_seeding_is_deterministic_and_reseeding_the_demo_replaces_it(db, frozen_clock):
    first = demo.seed()
    assert first.replaced == "nothing"
    fingerprint = digest()
    again = demo.seed()  # the database holds only the demo: it is replaced, no --reset needed
    assert again.replaced == "demo"
    assert digest() == fingerprint
    reset = demo.seed(reset=True)
    assert reset.replaced == "demo"
    assert digest() == fingerprint
    # The same seed on another day gives another calendar, anchored on that day.
    clock.set_now(frozen_clock + timedelta(days=3))
    demo.seed()
    assert digest() != fingerprint


def test_refuses_a_database_with_other_users_unless_reset(db, frozen_clock):
    make_user("admin", "jane")
    with pytest.raises(Refused, match="jane"):
        demo.seed()
    assert [u.username for u in User.select()] == ["jane"]
    assert Doctor.select().count() == 0
    summary = demo.seed(reset=True)
    assert summary.replaced == "everything"
    assert not User.select().where(User.username == "jane").exists()
    assert Doctor.select().count() == 25


def test_refuses_a_database_with_rows_but_no_users(db, frozen_clock):
    make_patient("Walk-in Patient")
    with pytest.raises(Refused, match="patient"):
        demo.seed()
    assert Patient.select().count() == 1


def test_a_demo_user_added_later_does_not_make_it_real_but_another_one_does(db, frozen_clock):
    demo.seed()
    make_user("reception", "frontdesk2", email="frontdesk2@clinic.example")
    with pytest.raises(Refused, match="frontdesk2"):
        demo.seed()


# -- the command ------------------------------------------------------------------------


def test_cli_demo_seeds_and_prints_the_logins(cli):
    result = cli("demo", "--no-tui")
    assert result.code == 0, result.err
    assert "demo-admin-pass" in result.out and "demo-patient-pass" in result.out
    assert "appointment" in result.out
    assert Doctor.select().count() == 25
    second = cli("demo", "--no-tui")
    assert second.code == 0, second.err
    assert "replaced" in second.out


def test_cli_demo_refuses_real_data_with_one_line_and_reset_wipes_it(cli):
    make_user("admin", "jane")
    refused = cli("demo", "--no-tui")
    assert refused.code == 1
    assert refused.err.startswith("error: ") and len(refused.err.strip().splitlines()) == 1
    assert "--reset" in refused.err
    assert User.select().count() == 1
    wiped = cli("demo", "--reset", "--no-tui")
    assert wiped.code == 0, wiped.err
    assert not User.select().where(User.username == "jane").exists()


def test_cli_env_login_as_the_demo_admin_lists_the_demo_doctors(cli):
    assert cli("demo", "--no-tui").code == 0
    env = {"CLINIC_DESK_USER": "admin", "CLINIC_DESK_PASSWORD": "demo-admin-pass"}
    listed = cli("doctor", "list", "--json", env=env)
    assert listed.code == 0, listed.err
    doctors = {row["username"]: row for row in listed.json()}
    assert len(doctors) == 25
    assert doctors["doctor"]["full_name"] == "Dr. Lena Hoffmann"
    assert doctors["doctor"]["specialties"] == ["General practice"]
    assert all(row["reviews"] >= 0 and float(row["fee"]) >= 60 for row in doctors.values())
    wrong = cli("doctor", "list", "--json", env={**env, "CLINIC_DESK_PASSWORD": "demo-admin-wrong"})
    assert wrong.code == 1
