"""clinic-desk patient add | list | show | edit: thin commands over services/patients.py."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from . import common

app = typer.Typer(help="Patients: register, search, edit.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
PatientId = Annotated[int, typer.Argument(metavar="ID", help="The patient's id.", **common.ID_RANGE)]


def patient_json(view: Any) -> dict[str, Any]:
    return {
        "id": view.id,
        "full_name": view.full_name,
        "email": view.email,
        "phone": view.phone,
        "date_of_birth": view.date_of_birth.isoformat() if view.date_of_birth else None,
        "reminders": view.reminders,
    }


def _birth(text: Optional[str]):
    from ..services.contact import parse_birth_date

    return parse_birth_date(text) if text is not None else None


@app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", metavar="N", help="Full name.")],
    email: Annotated[str, typer.Option("--email", metavar="E", help="E-mail address.")],
    phone: Annotated[str, typer.Option("--phone", metavar="P", help="Phone number.")] = "",
    birth: Annotated[Optional[str], typer.Option("--birth", metavar="DATE", help="Date of birth, YYYY-MM-DD.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a patient; prints the new id."""
    from ..services import patients

    view = patients.add_patient(common.actor(), full_name=name, email=email, phone=phone, date_of_birth=_birth(birth))
    if as_json:
        common.print_json(patient_json(view))
    else:
        common.print_line(view.id)


@app.command("list")
def list_(
    search: Annotated[
        Optional[str], typer.Option("--search", metavar="TEXT", help="Part of the name, e-mail or phone.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="At most N patients.", max=common.MAX_ID)] = 200,
    as_json: JsonFlag = False,
) -> None:
    """Patients by name."""
    from ..services import patients

    views = patients.list_patients(common.actor(), search=search, limit=limit)
    common.warn_if_cut(len(views), limit, "narrow with --search")
    if as_json:
        common.print_json([patient_json(v) for v in views])
        return
    common.print_table(
        ("ID", "Name", "E-mail", "Phone", "Born"),
        ((v.id, v.full_name, v.email, v.phone, v.date_of_birth or "") for v in views),
    )


@app.command("show")
def show(patient_id: PatientId, as_json: JsonFlag = False) -> None:
    """One patient."""
    from ..services import patients

    view = patients.show_patient(common.actor(), patient_id)
    if as_json:
        common.print_json(patient_json(view))
        return
    common.print_fields(
        [
            ("id", view.id),
            ("name", view.full_name),
            ("e-mail", view.email),
            ("phone", view.phone or "-"),
            ("born", view.date_of_birth or "-"),
            ("reminders", "yes" if view.reminders else "no (opted out)"),
        ]
    )


@app.command("edit")
def edit(
    patient_id: PatientId,
    name: Annotated[Optional[str], typer.Option("--name", metavar="N", help="New full name.")] = None,
    email: Annotated[Optional[str], typer.Option("--email", metavar="E", help="New e-mail address.")] = None,
    phone: Annotated[Optional[str], typer.Option("--phone", metavar="P", help="New phone number.")] = None,
    birth: Annotated[Optional[str], typer.Option("--birth", metavar="DATE", help="Date of birth, YYYY-MM-DD.")] = None,
    reminders: Annotated[
        Optional[bool],
        typer.Option("--reminders/--no-reminders", help="Send reminder mail, or not.", show_default=False),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a patient's details or reminder choice."""
    from ..services import patients

    view = patients.edit_patient(
        common.actor(),
        patient_id,
        full_name=name,
        email=email,
        phone=phone,
        date_of_birth=_birth(birth),
        reminders=reminders,
    )
    if as_json:
        common.print_json(patient_json(view))
    else:
        common.print_line(f"updated patient {view.id}")
