"""Who runs a command: ``CLINIC_DESK_USER`` + ``CLINIC_DESK_PASSWORD`` for scripts, else the saved session."""

from __future__ import annotations

import os

from ..errors import AuthenticationFailed
from ..services import accounts
from ..services.actors import Actor


def resolve_actor() -> Actor:
    username = os.environ.get("CLINIC_DESK_USER")
    password = os.environ.get("CLINIC_DESK_PASSWORD")
    if username and password is not None:
        return accounts.authenticate(username, password)
    raise AuthenticationFailed("not logged in: run `clinic-desk login`, or set CLINIC_DESK_USER and CLINIC_DESK_PASSWORD")
