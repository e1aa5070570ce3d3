"""clinic-desk doctor add | list | show | edit: thin commands over services/doctors.py."""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

from . import common

app = typer.Typer(help="Doctors, their fees, rooms and specialties.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Username = Annotated[str, typer.Argument(metavar="USERNAME", help="The doctor's username.")]


def doctor_json(view: Any) -> dict[str, Any]:
    from ..services.money import format_money
    from ..services.timeutil import iso_local

    return {
        "id": view.id,
        "username": view.username,
        "full_name": view.full_name,
        "specialties": view.specialties,
        "fee": format_money(view.fee),
        "rating": view.rating,
        "reviews": view.reviews,
        "next_free": iso_local(view.next_free),
        "room": view.room,
        "active": view.active,
        "email": view.email,
        "bio": view.bio,
    }


def _when(instant: Any) -> str:
    from ..services.timeutil import to_local

    return f"{to_local(instant):%a %Y-%m-%d %H:%M}" if instant else "-"


def _rating(view: Any) -> str:
    return f"{view.rating:.1f} ({view.reviews})" if view.rating is not None else "-"


@app.command("add")
def add(
    username: Username,
    name: Annotated[str, typer.Option("--name", metavar="N", help="Full name, e.g. 'Dr. Ana Ruiz'.")],
    email: Annotated[str, typer.Option("--email", metavar="E", help="E-mail address (also the login).")],
    specialty: Annotated[list[str], typer.Option("--specialty", metavar="S", help="A specialty; repeat for more.")],
    fee: Annotated[str, typer.Option("--fee", metavar="AMOUNT", help="Consultation fee, e.g. 80.00.")],
    room: Annotated[str, typer.Option("--room", metavar="R", help="Room.")] = "",
    bio: Annotated[str, typer.Option("--bio", metavar="TEXT", help="A short biography.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the login password from standard input.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a doctor and their login (role doctor). Without --password-stdin the account has no
    usable password until `user reset-password`. Prints the new doctor's id."""
    from ..services import doctors
    from ..services.money import parse_fee

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    view = doctors.add_doctor(
        common.actor(),
        username,
        full_name=name,
        email=email,
        specialties=specialty,
        fee=parse_fee(fee),
        room=room,
        bio=bio,
        password=password,
    )
    if as_json:
        common.print_json(doctor_json(view))
    else:
        common.print_line(view.id)


@app.command("list")
def list_(
    specialty: Annotated[Optional[str], typer.Option("--specialty", metavar="S", help="Only this specialty.")] = None,
    search: Annotated[Optional[str], typer.Option("--search", metavar="TEXT", help="Part of the name.")] = None,
    max_fee: Annotated[Optional[str], typer.Option("--max-fee", metavar="X", help="Fee at most X.")] = None,
    min_rating: Annotated[
        Optional[float], typer.Option("--min-rating", metavar="R", help="Rating at least R (1-5).")
    ] = None,
    include_inactive: Annotated[bool, typer.Option("--all", help="Include inactive doctors.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Doctors with fee, rating and next free slot."""
    from ..services import doctors
    from ..services.money import format_money, parse_fee

    views = doctors.list_doctors(
        common.actor(),
        specialty=specialty,
        search=search,
        max_fee=parse_fee(max_fee) if max_fee is not None else None,
        min_rating=min_rating,
        include_inactive=include_inactive,
    )
    if as_json:
        common.print_json([doctor_json(v) for v in views])
        return
    common.print_table(
        ("ID", "Username", "Name", "Specialties", "Fee", "Rating", "Room", "Next free"),
        (
            (
                v.id,
                v.username,
                v.full_name if v.active else f"{v.full_name} (inactive)",
                ", ".join(v.specialties),
                format_money(v.fee),
                _rating(v),
                v.room,
                _when(v.next_free),
            )
            for v in views
        ),
    )


@app.command("show")
def show(username: Username, as_json: JsonFlag = False) -> None:
    """One doctor."""
    from ..services import doctors
    from ..services.money import format_money

    view = doctors.show_doctor(common.actor(), username)
    if as_json:
        common.print_json(doctor_json(view))
        return
    common.print_fields(
        [
            ("id", view.id),
            ("username", view.username),
            ("name", view.full_name),
            ("e-mail", view.email),
            ("specialties", ", ".join(view.specialties)),
            ("fee", format_money(view.fee)),
            ("rating", _rating(view)),
            ("room", view.room or "-"),
            ("active", "yes" if view.active else "no"),
            ("next free", _when(view.next_free)),
            ("bio", view.bio or "-"),
        ]
    )


@app.command("edit")
def edit(
    username: Username,
    fee: Annotated[Optional[str], typer.Option("--fee", metavar="AMOUNT", help="New fee.")] = None,
    room: Annotated[Optional[str], typer.Option("--room", metavar="R", help="New room.")] = None,
    bio: Annotated[Optional[str], typer.Option("--bio", metavar="TEXT", help="New biography.")] = None,
    add_specialty: Annotated[
        Optional[list[str]], typer.Option("--add-specialty", metavar="S", help="Add a specialty; repeatable.")
    ] = None,
    remove_specialty: Annotated[
        Optional[list[str]], typer.Option("--remove-specialty", metavar="S", help="Remove a specialty; repeatable.")
    ] = None,
    active: Annotated[
        Optional[bool], typer.Option("--active/--inactive", help="Take bookings, or not.", show_default=False)
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a doctor's fee, room, biography, specialties or whether they take bookings."""
    from ..services import doctors
    from ..services.money import parse_fee

    view = doctors.edit_doctor(
        common.actor(),
        username,
        fee=parse_fee(fee) if fee is not None else None,
        room=room,
        bio=bio,
        add_specialties=add_specialty or (),
        remove_specialties=remove_specialty or (),
        active=active,
    )
    if as_json:
        common.print_json(doctor_json(view))
    else:
        common.print_line(f"updated doctor {view.username}")
