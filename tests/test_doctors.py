"""Doctors: added with their login, listed with fee, rating and next free slot, edited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clinic_desk.errors import AuthenticationFailed, BadInput, Conflict, PermissionDenied
from clinic_desk.services import accounts, doctors
from clinic_desk.store.models import AuditEvent, Doctor, Outbox, User
from tests.booking_support import local, staff
from tests.factories import login_env, make_appointment, make_doctor, make_patient, make_slot, make_user


def _add(actor, username="drruiz", **extra):
    values = dict(full_name="Dr. Ana Ruiz", email=f"{username}@example.test", specialties=["Cardiology"], fee=8000)
    values.update(extra)
    return doctors.add_doctor(actor, username, **values)


def test_add_creates_a_doctor_login_that_has_no_usable_password(db):
    view = _add(staff("admin"), room="3B", specialties=["Cardiology", "general practice"])
    user = User.get(User.username == "drruiz")
    assert user.role == "doctor" and user.password_hash == ""
    assert view.specialties == ["Cardiology", "general practice"]
    assert (view.fee, view.room, view.rating, view.reviews, view.active) == (8000, "3B", None, 0, True)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("drruiz", "")
    assert AuditEvent.get(AuditEvent.action == "doctor.add").entity_id == view.id
    assert Outbox.select().where(Outbox.to_addr == "drruiz@example.test").exists()  # the verification code


def test_cli_add_with_password_stdin_gives_a_working_login(cli):
    make_user("admin", "admin1")
    result = cli(
        "doctor", "add", "drlee", "--name", "Dr. Lee", "--email", "lee@example.test",
        "--specialty", "Dermatology", "--fee", "95.50", "--room", "7", "--password-stdin",
        input="a-long-enough-secret-9\n", env=login_env("admin1"),
    )
    assert result.code == 0, result.err
    doctor_id = int(result.out.strip())
    shown = cli("doctor", "show", "drlee", "--json", env=login_env("drlee", "a-long-enough-secret-9"))
    assert shown.code == 0, shown.err
    assert shown.json()["id"] == doctor_id and shown.json()["fee"] == "95.50"


def test_add_refuses_a_taken_username_or_email_and_non_admins(db):
    admin = staff("admin")
    _add(admin)
    with pytest.raises(Conflict, match="username 'drruiz'"):
        _add(admin, email="other@example.test")
    with pytest.raises(Conflict, match="email"):
        _add(admin, "drother", email="drruiz@example.test")
    with pytest.raises(PermissionDenied):
        _add(staff("reception"), "drnew")
    with pytest.raises(BadInput, match="specialty"):
        _add(admin, "drnone", specialties=[])
    assert Doctor.select().count() == 1


def test_list_filters_by_specialty_name_fee_and_rating(db, frozen_clock):
    admin = staff("admin")
    _add(admin, "card", full_name="Dr. Heart", specialties=["Cardiology"], fee=12000)
    _add(admin, "derm", full_name="Dr. 100% Skin_Care", specialties=["Dermatology"], fee=6000)
    _add(admin, "gp", full_name="Dr. Family", specialties=["General", "Cardiology"], fee=5000)
    Doctor.update(rating_total=9, rating_count=2).where(Doctor.id == doctors.find_doctor("card").id).execute()
    Doctor.update(rating_total=3, rating_count=1).where(Doctor.id == doctors.find_doctor("gp").id).execute()
    desk = staff("reception")

    def names(**filters):
        return [view.username for view in doctors.list_doctors(desk, **filters)]

    assert names() == ["derm", "gp", "card"]  # by full name
    assert names(specialty="cardiology") == ["gp", "card"]
    assert names(max_fee=6000) == ["derm", "gp"]
    assert names(min_rating=4) == ["card"]
    assert names(search="100%") == ["derm"]
    assert names(search="0%_") == []  # wildcards are literal characters
    assert names(search="heart") == ["card"]
    [card] = doctors.list_doctors(desk, search="Heart")
    assert (card.rating, card.reviews) == (4.5, 2)
    with pytest.raises(BadInput, match="unknown specialty"):
        doctors.list_doctors(desk, specialty="Astrology")
    with pytest.raises(BadInput, match="min-rating"):
        doctors.list_doctors(desk, min_rating=9)


def test_next_free_skips_past_booked_and_blocked_slots(db, frozen_clock):
    doctor = make_doctor("drnext")
    make_slot(doctor, frozen_clock - timedelta(hours=1))  # past
    booked = make_slot(doctor, local(2027, 3, 5, 9))
    make_appointment(booked, make_patient())
    make_slot(doctor, local(2027, 3, 5, 10), status="blocked")
    cancelled = make_slot(doctor, local(2027, 3, 5, 11))
    make_appointment(cancelled, make_patient(), status="cancelled")
    [view] = doctors.list_doctors(staff())
    assert view.next_free == local(2027, 3, 5, 11)


def test_inactive_doctors_are_hidden_unless_asked(db):
    admin = staff("admin")
    _add(admin, "active1")
    _add(admin, "gone1")
    doctors.edit_doctor(admin, "gone1", active=False)
    assert [v.username for v in doctors.list_doctors(admin)] == ["active1"]
    assert {v.username for v in doctors.list_doctors(admin, include_inactive=True)} == {"active1", "gone1"}


def test_edit_changes_fee_room_specialties_and_keeps_one_specialty(db):
    admin = staff("admin")
    _add(admin, specialties=["Cardiology"])
    view = doctors.edit_doctor(admin, "drruiz", fee=9000, room="4", add_specialties=["Sports medicine"])
    assert (view.fee, view.room, view.specialties) == (9000, "4", ["Cardiology", "Sports medicine"])
    view = doctors.edit_doctor(admin, "drruiz", remove_specialties=["cardiology"])
    assert view.specialties == ["Sports medicine"]
    with pytest.raises(BadInput, match="at least one specialty"):
        doctors.edit_doctor(admin, "drruiz", remove_specialties=["Sports medicine"])
    with pytest.raises(BadInput, match="does not have"):
        doctors.edit_doctor(admin, "drruiz", remove_specialties=["Neurology"])
    with pytest.raises(BadInput, match="nothing to change"):
        doctors.edit_doctor(admin, "drruiz")


def test_cli_list_json_has_the_contract_fields(cli, frozen_clock):
    make_user("reception", "desk1")
    doctor = make_doctor("drjson", fee=8000, room="2")
    make_slot(doctor, local(2027, 3, 8, 9))
    result = cli("doctor", "list", "--json", env=login_env("desk1"))
    assert result.code == 0, result.err
    [row] = result.json()
    assert {"id", "username", "full_name", "specialties", "fee", "rating", "reviews"} <= set(row)
    assert (row["username"], row["fee"], row["rating"], row["reviews"]) == ("drjson", "80.00", None, 0)
    assert row["next_free"] == "2027-03-08T09:00:00+01:00"


def test_cli_edit_inactive_and_unknown_doctor(cli):
    make_user("admin", "admin1")
    make_doctor("drcli")
    assert cli("doctor", "edit", "drcli", "--inactive", "--fee", "70", env=login_env("admin1")).code == 0
    shown = cli("doctor", "show", "drcli", "--json", env=login_env("admin1")).json()
    assert (shown["active"], shown["fee"]) == (False, "70.00")
    missing = cli("doctor", "show", "nobody", env=login_env("admin1"))
    assert missing.code == 2 and "unknown doctor 'nobody'" in missing.err
    bad_fee = cli("doctor", "edit", "drcli", "--fee", "-5", env=login_env("admin1"))
    assert bad_fee.code == 2


def test_a_fee_must_be_payable_and_zero_may_be_written_any_way(cli):
    make_user("admin", "boss")
    add = ("doctor", "add", "drfee", "--name", "Dr Fee", "--email", "fee@example.test", "--specialty", "X")
    too_dear = cli(*add, "--fee", "10000.01", env=login_env("boss"))
    assert too_dear.code == 2 and "over the maximum of 10000.00" in too_dear.err
    free = cli(*add, "--fee", "00", env=login_env("boss"))
    assert free.code == 0, free.err
    assert cli("doctor", "show", "drfee", "--json", env=login_env("boss")).json()["fee"] == "0.00"
    with pytest.raises(BadInput, match="over the largest single payment"):
        doctors.edit_doctor(staff("admin"), "drfee", fee=1_000_001)


def test_adding_and_removing_one_specialty_at_once_is_refused(db):
    admin = staff("admin")
    _add(admin, specialties=["Cardiology", "Surgery"])
    with pytest.raises(BadInput, match="both name 'cardiology'"):
        doctors.edit_doctor(admin, "drruiz", add_specialties=["Cardiology"], remove_specialties=["cardiology"])
    assert doctors.show_doctor(admin, "drruiz").specialties == ["Cardiology", "Surgery"]
