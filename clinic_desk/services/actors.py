"""Who is acting: the logged-in user as the services see it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: str  # admin | reception | doctor | patient | system
    doctor_id: int | None = None
    patient_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in {"admin", "reception", "doctor", "system"}


# Cron-style work (mail delivery, reminders) that no person started.
SYSTEM = Actor(user_id=None, username="system", role="system")
