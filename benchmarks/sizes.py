"""How big a run is: the full benchmark of issue 10, or ``--quick`` at a tenth of its size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True)
class Sizes:
    doctors: int  # x one year of weekday half-hour slots 09:00-17:00 (4,176 each)
    appointments: int  # on distinct slots of the generated year
    patients: int  # including the walk-ins the booking race books for
    race_slots: int  # the hot set the race processes book from
    race_workers: int
    peer_events: int  # events in the khal / calcurse calendar
    process_runs: int  # runs of a whole process (CLI, TUI start); the median counts
    query_runs: int  # in-process query repetitions; the median counts
    month_presses: int  # PgDn presses on the calendar, from January on

    @property
    def walk_ins(self) -> int:
        """Patients kept free of appointments: one per race attempt, plus one warm-up per worker."""
        return self.race_slots + self.race_workers


FULL = Sizes(
    doctors=100,
    appointments=200_000,
    patients=20_000,
    race_slots=2_000,
    race_workers=8,
    peer_events=10_000,
    process_runs=7,
    query_runs=25,
    month_presses=11,
)
QUICK = Sizes(
    doctors=10,
    appointments=20_000,
    patients=2_000,
    race_slots=200,
    race_workers=8,
    peer_events=1_000,
    process_runs=3,
    query_runs=9,
    month_presses=5,
)

# The data set's calendar: the year 2027 (261 weekdays, both DST changes), and "now" halfway.
YEAR = 2027
FIRST_DAY = date(YEAR, 1, 1)
LAST_DAY = date(YEAR, 12, 31)
NOW = datetime(YEAR, 7, 1, 6, 0, tzinfo=UTC)  # 08:00 in Berlin, a Thursday
TIMEZONE = "Europe/Berlin"
SLOTS_PER_DAY = 16  # 09:00-17:00, 30 minutes
