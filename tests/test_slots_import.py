"""`slots import FILE.csv`: bad rows named by row and column; all or nothing unless --skip-bad."""

from __future__ import annotations

import pytest

from clinic_desk.errors import PermissionDenied
from clinic_desk.services import slotimport
from clinic_desk.store.models import AuditEvent, TimeSlot
from tests.booking_support import doctor_actor, local, shown
from tests.factories import login_env, make_doctor, make_slot, make_user

GOOD = """doctor,date,start,end
drcsv,2027-05-03,09:00,09:30
drcsv,2027-05-03,09:30,10:00
drtwo,2027-05-04,14:00,14:45
"""


@pytest.fixture
def desk(cli, tmp_path):
    make_user("reception", "desk1")
    make_doctor("drcsv")
    make_doctor("drtwo")

    def run(text: str, *args: str):
        path = tmp_path / f"slots-{len(list(tmp_path.iterdir()))}.csv"
        path.write_text(text, encoding="utf-8")
        return cli("slots", "import", str(path), *args, env=login_env("desk1"))

    return run


def _all() -> list[tuple[str, str, int]]:
    return [
        (s.doctor.user.username, shown(s.starts_at), int((s.ends_at - s.starts_at).total_seconds() // 60))
        for s in TimeSlot.select().order_by(TimeSlot.starts_at)
    ]


def test_import_creates_the_rows_in_local_time_and_twice_creates_nothing(desk):
    first = desk(GOOD, "--json")
    assert first.code == 0, first.err
    assert first.json() == {"rows": 3, "created": 3, "skipped_existing": 0, "conflicts": 0, "skipped_nonexistent": 0,
                            "skipped_bad": 0, "dry_run": False, "errors": []}
    assert _all() == [("drcsv", "2027-05-03 09:00", 30), ("drcsv", "2027-05-03 09:30", 30),
                      ("drtwo", "2027-05-04 14:00", 45)]
    assert TimeSlot.get(TimeSlot.starts_at == local(2027, 5, 3, 9)).status == "open"
    second = desk(GOOD, "--json")
    assert (second.json()["created"], second.json()["skipped_existing"]) == (0, 3)
    assert len(_all()) == 3
    assert AuditEvent.select().where(AuditEvent.action == "slots.import").count() == 1


def test_any_bad_row_imports_nothing_and_every_bad_row_is_named(desk):
    text = """Doctor,Date,Start,End
drcsv,2027-05-03,09:00,09:30
nobody,2027-05-03,10:00,10:30
drcsv,2027-02-30,10:00,10:30
drcsv,2027-05-03,9am,10:30
drcsv,2027-05-03,11:00,10:30
drcsv,2027-03-28,02:00,02:30
drcsv,2027-05-03,09:15,09:45
"""
    result = desk(text)
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines[:6] == [
        "row 3, column doctor: unknown doctor 'nobody'",
        "row 4, column date: date is not a real date: '2027-02-30'",
        "row 5, column start: start must be HH:MM (00:00-23:59): '9am'",
        "row 6, column end: 10:30 is not after the start 11:00",
        "row 7, column start: 02:00-02:30 does not exist on 2027-03-28 (clocks go forward)",
        "row 8, column start: overlaps row 2 for the same doctor",
    ]
    assert lines[-1].startswith("error: 6 bad row(s), nothing imported")
    assert _all() == []


def test_skip_bad_imports_the_good_rows_and_lists_the_others(desk):
    make_slot(make_doctor("drbusy"), local(2027, 5, 3, 9, 15))
    text = "doctor,date,start,end\ndrcsv,2027-05-03,09:00,09:30\ndrbusy,2027-05-03,09:00,09:30\n\ndrcsv,nope,1,2\n"
    result = desk(text, "--skip-bad")
    assert result.code == 0, result.err
    assert result.out.strip() == "imported 1 slots; 0 already there, 2 bad rows skipped"
    assert "row 3, column start: overlaps slot" in result.err and "row 5, column date" in result.err
    assert [(row[0], row[1]) for row in _all()] == [("drcsv", "2027-05-03 09:00"), ("drbusy", "2027-05-03 09:15")]


def test_dry_run_and_a_file_without_the_columns(desk):
    assert desk(GOOD, "--dry-run").out.startswith("would import 3 slots")
    assert _all() == []
    missing = desk("doctor,day,from,to\ndrcsv,2027-05-03,09:00,09:30\n")
    assert missing.code == 2 and "lacks the column(s) date, start, end" in missing.err
    assert desk("").code == 2


def test_a_spreadsheet_export_with_a_byte_order_mark_reads_fine(desk):
    assert desk("\ufeff" + GOOD).code == 0
    assert len(_all()) == 3


def test_a_file_that_is_not_there_is_bad_input(cli):
    make_user("reception", "desk1")
    result = cli("slots", "import", "/nonexistent/slots.csv", env=login_env("desk1"))
    assert result.code == 2 and "cannot read /nonexistent/slots.csv" in result.err


def test_a_doctor_imports_only_their_own_slots(db):
    own = make_doctor("drcsv")
    make_doctor("drtwo")
    with pytest.raises(PermissionDenied):
        slotimport.import_slots(doctor_actor(own), GOOD)
    assert _all() == []
    summary = slotimport.import_slots(doctor_actor(own), "doctor,date,start,end\ndrcsv,2027-05-03,09:00,09:30\n")
    assert summary.created == 1


def test_the_json_summary_counts_conflicts_and_nonexistent_times_as_slots_generate_does(desk):
    make_slot(make_doctor("drbusy"), local(2027, 5, 3, 9, 15))
    text = ("doctor,date,start,end\ndrcsv,2027-05-03,09:00,09:30\ndrbusy,2027-05-03,09:00,09:30\n"
            "drcsv,2027-03-28,02:00,02:30\ndrcsv,2027-05-03,09:10,09:40\ndrcsv,nope,1,2\n")
    summary = desk(text, "--skip-bad", "--json").json()
    assert {key: summary[key] for key in ("created", "conflicts", "skipped_nonexistent", "skipped_bad")} == {
        "created": 1, "conflicts": 2, "skipped_nonexistent": 1, "skipped_bad": 4,
    }
