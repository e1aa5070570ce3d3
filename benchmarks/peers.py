"""The peers agenda.day is compared with: khal (``khal list`` of one day) and calcurse (``-Q``),
each over a calendar of ``peer_events`` half-hour events that the benchmark writes as one .ics
(16 a weekday, 09:00-17:00 Europe/Berlin, centred on the listed day) and imports the way a user
would: ``khal import --batch`` into a vdir, ``calcurse -i``. Built once per run."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from .sizes import SLOTS_PER_DAY, TIMEZONE

INSTALL_HINT = "apt-get install khal calcurse (Debian) for this baseline"
TOOLS = {"khal": "khal list (1 day)", "calcurse": "calcurse -Q (1 day)"}

VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""


def _weekdays_around(day: date, count: int) -> list[date]:
    before, after = [], []
    probe = day - timedelta(days=1)
    while len(before) < count // 2:
        if probe.weekday() < 5:
            before.append(probe)
        probe -= timedelta(days=1)
    probe = day
    while len(before) + len(after) < count:
        if probe.weekday() < 5:
            after.append(probe)
        probe += timedelta(days=1)
    return sorted(before) + after


def write_ics(path: Path, events: int, day: date) -> None:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//clinic-desk//benchmarks//EN", *VTIMEZONE.splitlines()]
    days = _weekdays_around(day, -(-events // SLOTS_PER_DAY))
    n = 0
    for each in days:
        for k in range(SLOTS_PER_DAY):
            if n == events:
                break
            start = datetime.combine(each, datetime.min.time()) + timedelta(hours=9, minutes=30 * k)
            end = start + timedelta(minutes=30)
            lines += [
                "BEGIN:VEVENT",
                f"UID:bench-{n}@clinic-desk.test",
                "DTSTAMP:20270101T000000Z",
                f"DTSTART;TZID={TIMEZONE}:{start:%Y%m%dT%H%M%S}",
                f"DTEND;TZID={TIMEZONE}:{end:%Y%m%dT%H%M%S}",
                f"SUMMARY:Patient {n} (check-up)",
                "END:VEVENT",
            ]
            n += 1
    lines.append("END:VCALENDAR")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


@dataclass(frozen=True)
class PeerCalendars:
    root: Path
    day: date
    events: int
    khal: bool
    calcurse: bool

    def installed(self) -> list[str]:
        return [tool for tool in TOOLS if getattr(self, tool)]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TZ": TIMEZONE,
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_CACHE_HOME": str(self.root / "cache"),
        }

    def command(self, tool: str) -> list[str]:
        """One day's agenda: ``khal list D D`` or ``calcurse -Q --from D --days 1``."""
        if tool == "khal":
            return ["khal", "-c", str(self.root / "khal.conf"), "list", self.day.isoformat(), self.day.isoformat()]
        return ["calcurse", "-D", str(self.root / "calcurse"), "-Q", "--from", f"{self.day:%m/%d/%Y}", "--days", "1"]


def build(root: Path, day: date, events: int) -> PeerCalendars:
    """Write the .ics and import it into khal and calcurse (whichever is installed)."""
    root.mkdir(parents=True, exist_ok=True)
    ics = root / "clinic.ics"
    write_ics(ics, events, day)
    peers = PeerCalendars(root, day, events, bool(shutil.which("khal")), bool(shutil.which("calcurse")))
    env = peers.env()
    if peers.khal:
        vdir = root / "vdir" / "clinic"
        vdir.mkdir(parents=True)
        (root / "khal.conf").write_text(
            "[calendars]\n[[clinic]]\n"
            f"path = {vdir}\n"
            "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
            "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
            f"local_timezone = {TIMEZONE}\ndefault_timezone = {TIMEZONE}\n"
            f"[sqlite]\npath = {root / 'khal.db'}\n",
            encoding="utf-8",
        )
        subprocess.run(["khal", "-c", str(root / "khal.conf"), "import", "--batch", "-a", "clinic", str(ics)],
                       env=env, check=True, capture_output=True, timeout=1800)
    if peers.calcurse:
        (root / "calcurse").mkdir()
        subprocess.run(["calcurse", "-D", str(root / "calcurse"), "-q", "-i", str(ics)],
                       env=env, check=True, capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    return peers
