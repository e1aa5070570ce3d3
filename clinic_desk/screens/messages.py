"""Every message the TUI passes around, as dataclasses in one module (as Posting does).

Workers run service calls in threads and post these back to the event loop; the App's and
screens' ``on_...`` handlers own the state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from ..errors import ClinicError
from ..services.actors import Actor


@dataclass
class ServiceDone(Message):
    """A service call finished; ``then`` renders its result on the event loop."""

    then: Callable[[Any], None] | None
    result: Any


@dataclass
class ServiceRefused(Message):
    """A service said no (or the input was bad); ``otherwise`` may show it in place."""

    error: ClinicError
    otherwise: Callable[[ClinicError], None] | None = None


@dataclass
class DatabaseDown(Message):
    """The database stopped answering: show the banner until it comes back."""

    reason: str


@dataclass
class DatabaseUp(Message):
    """The database answers again: clear the banner and reload what is on screen."""


@dataclass
class DataChanged(Message, bubble=False):
    """Another desk (or this one) committed a change: the screen it is posted to reloads.

    It does not bubble: the App posts one to every screen of the current mode."""


@dataclass
class MailQueued(Message):
    """A service call queued mail: try to deliver it now (bounded; it stays queued otherwise)."""


@dataclass
class LoggedIn(Message):
    actor: Actor
