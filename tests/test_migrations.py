"""The schema is versioned: created from nothing, migrated forward with data kept, safe to repeat."""

from __future__ import annotations

from clinic_desk.store import migrate
from clinic_desk.store.db import db as proxy
from clinic_desk.store.db import is_postgres, open_database
from clinic_desk.store.models import Doctor, Patient


def _p() -> str:
    return "%s" if is_postgres() else "?"


def test_upgrade_from_first_version_keeps_data(scratch_database_url):
    open_database(scratch_database_url)
    try:
        assert migrate.upgrade(target="0001_initial") == ["0001_initial"]
        assert migrate.status().pending[0] == "0002_ratings_and_reminder_optout"
        p = _p()
        now = "2027-01-04 09:00:00"
        proxy.execute_sql(
            f"INSERT INTO app_user (username, email, full_name, role, created_at) VALUES ({p}, {p}, {p}, 'doctor', {p})",
            ("drwho", "who@example.test", "Dr. Who", now),
        )
        proxy.execute_sql(
            f"INSERT INTO doctor (user_id, room, fee) SELECT id, 'R9', 12000 FROM app_user WHERE username = {p}",
            ("drwho",),
        )
        proxy.execute_sql(
            f"INSERT INTO patient (full_name, email, created_at) VALUES ({p}, {p}, {p})",
            ("Ann Example", "ann@example.test", now),
        )

        applied = migrate.upgrade()
        assert applied[0] == "0002_ratings_and_reminder_optout"
        assert len(applied) == migrate.latest_version() - 1

        doctor = Doctor.get()
        assert (doctor.room, doctor.fee, doctor.rating_count, doctor.rating_total) == ("R9", 12000, 0, 0)
        patient = Patient.get()
        assert (patient.full_name, patient.reminders_opt_out) == ("Ann Example", False)
        assert migrate.status().up_to_date
        assert migrate.upgrade() == []  # a second upgrade is a no-op
    finally:
        proxy.close()


def test_status_of_an_empty_database_lists_every_step(scratch_database_url):
    open_database(scratch_database_url)
    try:
        current = migrate.status()
        assert current.version == 0 and not current.up_to_date
        assert current.pending[0] == "0001_initial"
        assert len(current.pending) == migrate.latest_version()
    finally:
        proxy.close()


def test_upgrading_to_the_slot_history_marks_slots_an_appointment_moved_away_from(scratch_database_url):
    open_database(scratch_database_url)
    try:
        migrate.upgrade(target="0003_booking_appointment_starts")
        p = _p()
        now = "2027-01-04 09:00:00"
        proxy.execute_sql(
            f"INSERT INTO app_user (username, email, full_name, role, created_at) VALUES ({p}, {p}, {p}, 'doctor', {p})",
            ("drwho", "who@example.test", "Dr. Who", now),
        )
        proxy.execute_sql("INSERT INTO doctor (user_id, room, fee, rating_count, rating_total) SELECT id, 'R9', 12000, 0, 0 FROM app_user")
        for hour in (9, 10):
            proxy.execute_sql(
                f"INSERT INTO time_slot (doctor_id, starts_at, ends_at, status) SELECT id, {p}, {p}, 'open' FROM doctor",
                (f"2027-01-05 {hour:02d}:00:00+00:00", f"2027-01-05 {hour:02d}:30:00+00:00"),
            )
        moved = '{"from_slot": 1, "from_starts_at": "x", "to_slot": 2, "to_starts_at": "y"}'
        proxy.execute_sql(
            f"INSERT INTO audit_event (actor_name, action, entity, entity_id, details, at)"
            f" VALUES ('desk', 'appointment.reschedule', 'appointment', 7, {p}, {p})",
            (moved, now),
        )

        migrate.upgrade()

        flags = dict(proxy.execute_sql("SELECT id, booked_before FROM time_slot ORDER BY id").fetchall())
        assert {slot: bool(flag) for slot, flag in flags.items()} == {1: True, 2: False}
    finally:
        proxy.close()
