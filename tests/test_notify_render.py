from datetime import UTC, datetime

from clinic_desk.services import notify
from clinic_desk.store.models import Outbox
from tests.factories import make_appointment, make_doctor, make_patient, make_slot


def test_appointment_mail_shows_local_time_and_escapes_html(db):
    doctor = make_doctor(full_name="Dr. <b>Who</b>", room="3")
    patient = make_patient("Ann <script>", email="ann@example.test")
    appointment = make_appointment(make_slot(doctor, datetime(2027, 7, 1, 7, 0, tzinfo=UTC)), patient, price=8050)
    row = notify.appointment_event("confirmed", appointment.id)
    stored = Outbox.get_by_id(row.id)
    assert stored.to_addr == "ann@example.test"
    assert "09:00" in stored.subject  # 07:00 UTC is 09:00 in Berlin in summer
    assert "80.50 EUR" in stored.text_body
    assert "Ann <script>" in stored.text_body
    assert "<script>" not in stored.html_body and "&lt;script&gt;" in stored.html_body
    assert stored.status == "pending"
