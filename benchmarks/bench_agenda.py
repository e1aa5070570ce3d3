"""agenda.day: `clinic-desk appointments list --doctor U --date D` as a whole process (the
console script, a saved `login` session as a desk user has one), for the busiest doctor's
busiest day with the full data set; the median of several runs after a warm-up run. Baselines:
`khal list` of one day over a calendar of ``peer_events`` events, and `calcurse -Q` (its own row)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from .dataset import Dataset
from .peers import INSTALL_HINT, TOOLS, PeerCalendars
from .processes import clinic_desk_command, interleaved, median, profile_python, run_once
from .report import Row
from .scratch import Scratch, child_environment
from .sizes import Sizes


def save_desk_session(data: Dataset, scratch: Scratch) -> None:
    """What `clinic-desk login --remember` leaves behind for the reception user, without a
    keyring: the token in the user config dir's sessions file (0600)."""
    from clinic_desk.commands.saved_session import FALLBACK_FILE, key_for
    from clinic_desk.services import accounts

    token = accounts.start_session(data.people.actor("reception"), remember=True)
    folder = Path(child_environment(scratch)["XDG_CONFIG_HOME"]) / "clinic-desk"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FALLBACK_FILE
    path.write_text(json.dumps({key_for(scratch.url): token}), encoding="utf-8")
    os.chmod(path, 0o600)


def run(data: Dataset, scratch: Scratch, sizes: Sizes, peers: Callable[[], PeerCalendars], profile_dir: Path | None) -> list[Row]:
    from clinic_desk.store.db import db

    save_desk_session(data, scratch)
    db.close()
    env = child_environment(scratch)
    command = clinic_desk_command() + [
        "appointments", "list", "--doctor", data.busiest_username, "--date", data.agenda_day.isoformat()
    ]
    listed = len(json.loads(run_once(command + ["--json"], env)[1]))
    calendars = peers()
    installed = calendars.installed()
    measures = {"ours": lambda: run_once(command, env)[0]}
    for tool in installed:
        measures[tool] = lambda tool=tool: run_once(calendars.command(tool), calendars.env())[0]
    times = interleaved(measures, sizes.process_runs)
    ours = times["ours"]
    if profile_dir:
        python_arguments = command[1:] if command[0] == sys.executable else command
        profile_python(python_arguments, env, profile_dir / f"agenda.day-{scratch.backend}")
    note = (f"{listed} appointments of {data.busiest_username} on {data.agenda_day}; median of {len(ours)} runs"
            f" (min {min(ours):.3f} s, max {max(ours):.3f} s), taking turns with the peers")
    if listed != data.agenda_rows:
        note += f"; EXPECTED {data.agenda_rows} rows"
    rows = []
    for name, tool in (("agenda.day", "khal"), ("agenda.day.vs_calcurse", "calcurse")):
        if tool not in installed:
            rows.append(Row(name, scratch.backend, median(ours), "s", None, None, f"{note}; no {tool}: {INSTALL_HINT}"))
            continue
        shown = sum(1 for line in run_once(calendars.command(tool), calendars.env())[1].splitlines() if "Patient" in line)
        rows.append(Row(
            name, scratch.backend, median(ours), "s", f"{TOOLS[tool]}, {calendars.events:,} events",
            median(times[tool]), f"{note}; {tool} showed {shown} events",
            extra={"runs": [round(t, 4) for t in ours], "peer_runs": [round(t, 4) for t in times[tool]]},
        ))
    return rows
