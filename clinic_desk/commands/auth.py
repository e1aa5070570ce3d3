"""Who runs a command, and reading secrets from the person at the terminal or from a script.

``CLINIC_DESK_USER`` + ``CLINIC_DESK_PASSWORD`` (+ ``CLINIC_DESK_TOTP``) for scripts, else the
session saved by ``clinic-desk login``.
"""

from __future__ import annotations

import os
import sys

import typer

from ..errors import AuthenticationFailed, BadInput, TotpRequired
from ..services import accounts
from ..services.actors import Actor
from . import common, saved_session

NOT_LOGGED_IN = "not logged in: run `clinic-desk login`, or set CLINIC_DESK_USER and CLINIC_DESK_PASSWORD"


def resolve_actor() -> Actor:
    username = os.environ.get("CLINIC_DESK_USER")
    if username:
        password = os.environ.get("CLINIC_DESK_PASSWORD")
        if password is None:
            raise BadInput("CLINIC_DESK_USER is set but CLINIC_DESK_PASSWORD is not")
        try:
            return accounts.authenticate(username, password, os.environ.get("CLINIC_DESK_TOTP") or None)
        except TotpRequired:
            raise TotpRequired("two-factor code required: set CLINIC_DESK_TOTP, or use `clinic-desk login`") from None
    token = saved_session.load(common.settings().database_url)
    if token is None:
        raise AuthenticationFailed(NOT_LOGGED_IN)
    return accounts.actor_for_session(token)


def on_terminal() -> bool:
    return sys.stdin.isatty()


def ask(prompt: str, *, secret: bool = False, confirm: bool = False) -> str:
    """One answer: a prompt on a terminal (hidden for secrets), else the next line of stdin."""
    if on_terminal():
        return typer.prompt(prompt, hide_input=secret, confirmation_prompt=confirm)
    line = sys.stdin.readline()
    if not line:
        raise BadInput(f"{prompt.lower()} needed: nothing left on stdin")
    if "\x00" in line:
        raise BadInput(f"{prompt.lower()} must not contain NUL bytes")
    return line.rstrip("\r\n")


def read_password_stdin() -> str:
    """The whole of stdin as a password (one trailing newline dropped)."""
    text = sys.stdin.read()
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            text = text[: -len(ending)]
            break
    if not text:
        raise BadInput("no password on stdin")
    return text


def new_password(password_stdin: bool, *, required: bool = True) -> str | None:
    """A new password from stdin (--password-stdin) or, on a terminal, typed twice unseen."""
    if password_stdin:
        return read_password_stdin()
    if on_terminal():
        return typer.prompt("New password", hide_input=True, confirmation_prompt="Repeat it")
    if required:
        raise BadInput("no terminal to ask for the password: pass it on stdin with --password-stdin")
    return None
