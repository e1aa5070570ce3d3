"""clinic-desk book ... and clinic-desk appointments ...: thin commands over services/booking.py
and services/queries.py."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from ..errors import BadInput, ClinicError, Refused
from . import common

appointments_app = typer.Typer(help="Appointments: list, confirm, cancel, reschedule, complete.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
AppointmentId = Annotated[int, typer.Argument(metavar="ID", help="The appointment's id.", **common.ID_RANGE)]


def appointment_json(view: Any) -> dict[str, Any]:
    from ..services.money import format_money
    from ..services.timeutil import iso_local

    return {
        "id": view.id,
        "slot_id": view.slot_id,
        "patient_id": view.patient_id,
        "doctor": view.doctor,
        "starts_at": iso_local(view.starts_at),
        "status": view.status,
        "price": format_money(view.price),
        "paid": view.paid,
        "ends_at": iso_local(view.ends_at),
        "patient_name": view.patient_name,
        "doctor_name": view.doctor_name,
        "reason": view.reason,
        "cancel_reason": view.cancel_reason,
    }


def _print(view: Any, as_json: bool, line: str) -> None:
    if as_json:
        common.print_json(appointment_json(view))
    else:
        common.print_line(line)


def register(app: typer.Typer) -> None:
    """Add `book` to the root app."""

    @app.command("book")
    def book(
        patient: Annotated[int, typer.Option("--patient", metavar="ID", help="The patient's id.", **common.ID_RANGE)],
        slot: Annotated[int, typer.Option("--slot", metavar="ID", help="The free slot's id.", **common.ID_RANGE)],
        reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Why the patient comes.")] = "",
        pay: Annotated[Optional[str], typer.Option("--pay", metavar="wallet|card", help="Pay right away.")] = None,
        card_number: Annotated[
            Optional[str], typer.Option("--card-number", metavar="N", help="With --pay card.")
        ] = None,
        card_expiry: Annotated[
            Optional[str], typer.Option("--card-expiry", metavar="MM/YY", help="With --pay card.")
        ] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Book a slot for a patient; prints the new appointment's id."""
        from ..services import booking, cards, payments, queries

        method = pay.strip().lower() if pay is not None else None
        if method not in (None, "wallet", "card"):
            raise BadInput(f"--pay must be wallet or card, not {pay!r}")
        if method == "card" and not card_number:
            raise BadInput("--pay card needs --card-number")
        if method != "card" and (card_number or card_expiry):
            raise BadInput("--card-number and --card-expiry go with --pay card")
        if method == "card":  # a mistyped card is bad input before anything is booked
            cards.normalize(card_number or "")
            if card_expiry is not None:
                cards.parse_expiry(card_expiry)
        actor = common.actor()
        view = booking.book(actor, patient, slot, reason)
        if method is not None:
            try:
                payments.pay(
                    actor,
                    view.id,
                    method=method,
                    card_number=card_number,
                    card_expiry=card_expiry,
                    idempotency_key=None,
                )
            except ClinicError as exc:
                _print(view, as_json, str(view.id))  # the appointment exists: a script needs its id
                raise Refused(
                    f"booked appointment {view.id} ({view.status}), but payment failed: {exc.message}"
                ) from None
            view = queries.get_appointment(actor, view.id)
        _print(view, as_json, str(view.id))


@appointments_app.command("list")
def list_(
    doctor: Annotated[Optional[str], typer.Option("--doctor", metavar="USERNAME", help="One doctor.")] = None,
    patient: Annotated[
        Optional[int], typer.Option("--patient", metavar="ID", help="One patient.", **common.ID_RANGE)
    ] = None,
    day: Annotated[Optional[str], typer.Option("--date", metavar="D", help="One day (local).")] = None,
    status: Annotated[
        Optional[str], typer.Option("--status", metavar="S", help="pending, confirmed, cancelled, completed, no-show.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", metavar="N", help="At most N appointments.", max=common.MAX_ID)
    ] = 1000,
    as_json: JsonFlag = False,
) -> None:
    """Appointments by time: doctors see their own, patients theirs, the desk everyone's."""
    from ..services import queries
    from ..services.money import format_money
    from ..services.timeutil import parse_date, to_local

    views = queries.list_appointments(
        common.actor(),
        doctor=doctor,
        patient_id=patient,
        day=parse_date(day) if day is not None else None,
        status=status,
        limit=limit,
    )
    common.warn_if_cut(len(views), limit, "narrow with --date, --doctor, --patient")
    if as_json:
        common.print_json([appointment_json(v) for v in views])
        return
    common.print_table(
        ("ID", "When", "Doctor", "Patient", "Status", "Price", "Paid", "Reason"),
        (
            (
                v.id,
                f"{to_local(v.starts_at):%a %Y-%m-%d %H:%M}",
                v.doctor_name,
                v.patient_name,
                v.status.replace("_", "-"),
                format_money(v.price),
                "yes" if v.paid else "no",
                v.reason,
            )
            for v in views
        ),
    )


@appointments_app.command("show")
def show(appointment_id: AppointmentId, as_json: JsonFlag = False) -> None:
    """One appointment."""
    from ..services import queries
    from ..services.money import format_money
    from ..services.timeutil import to_local

    view = queries.get_appointment(common.actor(), appointment_id)
    if as_json:
        common.print_json({**appointment_json(view), "notes": view.notes})
        return
    common.print_fields(
        [
            ("id", view.id),
            ("when", f"{to_local(view.starts_at):%a %Y-%m-%d %H:%M}-{to_local(view.ends_at):%H:%M}"),
            ("doctor", f"{view.doctor_name} ({view.doctor})"),
            ("patient", f"{view.patient_name} (id {view.patient_id})"),
            ("slot", view.slot_id),
            ("status", view.status.replace("_", "-")),
            ("price", format_money(view.price)),
            ("paid", "yes" if view.paid else "no"),
            ("reason", view.reason or "-"),
            *([("cancelled because", view.cancel_reason)] if view.cancel_reason else []),
            *([("notes", view.notes)] if view.notes else []),
        ]
    )


@appointments_app.command("confirm")
def confirm(appointment_id: AppointmentId, as_json: JsonFlag = False) -> None:
    """Confirm a pending appointment."""
    from ..services import booking

    view = booking.confirm(common.actor(), appointment_id)
    _print(view, as_json, f"appointment {view.id} confirmed")


@appointments_app.command("complete")
def complete(appointment_id: AppointmentId, as_json: JsonFlag = False) -> None:
    """Mark the visit as completed (its doctor, from its start time on)."""
    from ..services import booking

    view = booking.complete(common.actor(), appointment_id)
    _print(view, as_json, f"appointment {view.id} completed")


@appointments_app.command("no-show")
def no_show(appointment_id: AppointmentId, as_json: JsonFlag = False) -> None:
    """Mark that the patient did not come (its doctor, from its start time on)."""
    from ..services import booking

    view = booking.no_show(common.actor(), appointment_id)
    _print(view, as_json, f"appointment {view.id} marked no-show")


@appointments_app.command("cancel")
def cancel(
    appointment_id: AppointmentId,
    reason: Annotated[str, typer.Option("--reason", metavar="R", help="Why (required; the patient sees it).")],
    by_clinic: Annotated[bool, typer.Option("--by-clinic", help="The clinic cancels: always a full refund.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Cancel an appointment; its slot is free again and the refund policy applies."""
    from ..services import booking
    from ..services.money import format_money

    result = booking.cancel(common.actor(), appointment_id, reason, by_clinic=by_clinic)
    if as_json:
        common.print_json({**appointment_json(result.appointment), "refunded": format_money(result.refunded)})
    else:
        common.print_line(f"appointment {appointment_id} cancelled" + (f"; {result.money}" if result.money else ""))


@appointments_app.command("reschedule")
def reschedule(
    appointment_id: AppointmentId,
    slot: Annotated[int, typer.Option("--slot", metavar="ID", help="The new free slot.", **common.ID_RANGE)],
    as_json: JsonFlag = False,
) -> None:
    """Move an appointment to another free slot (same or another doctor)."""
    from ..services import booking
    from ..services.timeutil import to_local

    view = booking.reschedule(common.actor(), appointment_id, slot)
    _print(view, as_json, f"appointment {view.id} moved to {to_local(view.starts_at):%a %Y-%m-%d %H:%M}")


@appointments_app.command("notes")
def notes(
    appointment_id: AppointmentId,
    text: Annotated[str, typer.Option("--text", metavar="T", help="The notes (replace earlier ones).")],
    as_json: JsonFlag = False,
) -> None:
    """The doctor's notes on a visit."""
    from ..services import booking

    view = booking.set_notes(common.actor(), appointment_id, text)
    _print(view, as_json, f"notes saved on appointment {view.id}")
