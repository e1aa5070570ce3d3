"""clinic-desk review add | list | show | approve | reject | respond: thin commands over services/reviews.py."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from . import common

app = typer.Typer(help="Reviews of completed visits: add, moderate, respond.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ReviewId = Annotated[int, typer.Argument(metavar="ID", help="The review's id.", **common.ID_RANGE)]


def _json(view: Any) -> dict[str, Any]:
    from ..services.timeutil import iso_local

    return {
        "id": view.id,
        "appointment_id": view.appointment_id,
        "rating": view.rating,
        "status": view.status,
        "doctor": view.doctor,
        "doctor_name": view.doctor_name,
        "patient_id": view.patient_id,
        "patient_name": view.patient_name,
        "visit_at": iso_local(view.visit_at),
        "comment": view.comment,
        "response": view.response,
        "responded_at": iso_local(view.responded_at),
        "reject_reason": view.reject_reason,
        "moderated_at": iso_local(view.moderated_at),
        "created_at": iso_local(view.created_at),
    }


def _short(text: str, width: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command("add")
def add(
    appointment: Annotated[
        int, typer.Argument(metavar="APPOINTMENT", help="The completed appointment's id.", **common.ID_RANGE)
    ],
    rating: Annotated[str, typer.Option("--rating", metavar="1..5", help="How many stars, 1 to 5.")],
    comment: Annotated[str, typer.Option("--comment", metavar="TEXT", help="Optional text, at most 2000 characters.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Review a completed visit; it is shown once an admin approves it. Prints the new id."""
    from ..services import reviews

    view = reviews.add(common.actor(), appointment, reviews.parse_rating(rating), comment)
    if as_json:
        common.print_json(_json(view))
    else:
        common.print_line(view.id)


@app.command("list")
def list_(
    status: Annotated[Optional[str], typer.Option("--status", metavar="S", help="pending, approved or rejected.")] = None,
    doctor: Annotated[Optional[str], typer.Option("--doctor", metavar="USERNAME", help="The doctor's username.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The reviews you may see (admins: all; patients: their own; doctors: approved ones of theirs)."""
    from ..services import reviews

    views = reviews.list_reviews(common.actor(), status=status, doctor=doctor)
    if as_json:
        common.print_json([_json(view) for view in views])
        return
    common.print_table(
        ("ID", "Visit", "Doctor", "Patient", "Rating", "Status", "Comment", "Response"),
        (
            (v.id, v.appointment_id, v.doctor, v.patient_name, f"{v.rating}/5", v.status, _short(v.comment),
             "yes" if v.response else "")
            for v in views
        ),
    )


@app.command("show")
def show(review_id: ReviewId, as_json: JsonFlag = False) -> None:
    """One review with its comment, moderation and the doctor's response."""
    from ..services import reviews
    from ..services.timeutil import iso_local

    view = reviews.show(common.actor(), review_id)
    if as_json:
        common.print_json(_json(view))
        return
    pairs: list[tuple[str, object]] = [
        ("Review", view.id),
        ("Visit", f"{view.appointment_id} on {iso_local(view.visit_at)}"),
        ("Doctor", f"{view.doctor_name} ({view.doctor})"),
        ("Patient", f"{view.patient_name} (id {view.patient_id})"),
        ("Rating", f"{view.rating}/5"),
        ("Status", view.status),
        ("Written", iso_local(view.created_at)),
    ]
    if view.reject_reason:
        pairs.append(("Rejected", view.reject_reason))
    common.print_fields(pairs)
    for title, text in (("Comment", view.comment), ("Response", view.response)):
        if text:
            common.print_line("")
            common.print_line(f"{title}:")
            for line in text.splitlines():
                common.print_line(f"  {line}")


@app.command("approve")
def approve(review_id: ReviewId) -> None:
    """Publish a pending (or rejected) review; it counts in the doctor's rating. Admins only."""
    from ..services import reviews

    view = reviews.approve(common.actor(), review_id)
    common.print_line(f"review {view.id} approved")


@app.command("reject")
def reject(
    review_id: ReviewId,
    reason: Annotated[
        Optional[str],
        typer.Option("--reason", metavar="TEXT", help="Why it is not published (the patient sees it); default: the guidelines."),
    ] = None,
) -> None:
    """Hide a review (taking it out of the doctor's rating if it was approved). Admins only."""
    from ..services import reviews

    view = reviews.reject(common.actor(), review_id, reason)
    common.print_line(f"review {view.id} rejected")


@app.command("respond")
def respond(
    review_id: ReviewId,
    text: Annotated[str, typer.Option("--text", metavar="TEXT", help="Your answer; responding again replaces it.")],
) -> None:
    """Answer an approved review of yours; the patient is emailed. The reviewed doctor only."""
    from ..services import reviews

    view = reviews.respond(common.actor(), review_id, text)
    common.print_line(f"review {view.id}: response saved; the patient is emailed")
