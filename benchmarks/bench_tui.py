"""The TUI, each in a fresh process: tui.first_frame (cold start of `clinic-desk tui` until the
login form is painted; baseline `python -c "import textual.app"`), tui.month_switch (PgDn on the
busiest doctor's calendar until the grid shows the next month, painted; baseline the
``month_occupancy`` query it waits for, in the same process) and tui.rss (resident memory after
the calendar has opened on the full data set; baseline a bare Textual app)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .dataset import Dataset
from .processes import interleaved, median, profile_python, run_once, until_ready
from .report import Row
from .scratch import Scratch, child_environment
from .sizes import FIRST_DAY, Sizes

PROBE = ["-m", "benchmarks.tui_probe"]


def first_frame(scratch: Scratch, sizes: Sizes, profile_dir: Path | None) -> list[Row]:
    env = child_environment(scratch)
    command = [sys.executable, *PROBE, "first-frame"]
    runs = interleaved(
        {
            "ours": lambda: until_ready(command, env)[0],
            "textual": lambda: run_once([sys.executable, "-c", "import textual.app"], env)[0],
        },
        sizes.process_runs,
    )
    times, baseline = runs["ours"], runs["textual"]
    if profile_dir:
        profile_python([*PROBE, "first-frame"], env, profile_dir / f"tui.first_frame-{scratch.backend}")
    return [Row(
        "tui.first_frame", scratch.backend, median(times), "s", 'python -c "import textual.app"', median(baseline),
        f"spawn to login form painted (headless run_test, via `clinic-desk tui`'s code path); median of {len(times)}"
        f" (min {min(times):.3f}, max {max(times):.3f}), taking turns with the baseline",
        extra={"runs": [round(t, 4) for t in times], "baseline_runs": [round(t, 4) for t in baseline]},
    )]


def calendar(data: Dataset, scratch: Scratch, sizes: Sizes, profile_dir: Path | None, names: set[str]) -> list[Row]:
    """One probe process for tui.month_switch and tui.rss."""
    env = child_environment(scratch)
    reception = data.people.actor("reception")
    presses = sizes.month_presses
    spec = json.dumps({
        "actor": {"user_id": reception.user_id, "username": reception.username, "role": reception.role},
        "doctor_id": data.busiest_doctor,
        "start_day": FIRST_DAY.replace(day=4).isoformat(),
        "presses": presses,
    })
    _, out = run_once([sys.executable, *PROBE, "calendar", spec], env, timeout=600)
    probe = json.loads(out.strip().splitlines()[-1])
    rows = []
    if "tui.month_switch" in names:
        switches = probe["switch_ms"]
        rows.append(Row(
            "tui.month_switch", scratch.backend, median(switches), "ms", "month_occupancy call, same process",
            median(probe["query_ms"]),
            f"PgDn x{len(switches)} from {FIRST_DAY:%B %Y} on {data.busiest_username}'s calendar (busiest doctor):"
            f" key to grid painted; median (max {max(switches):.1f} ms); calendar opened in {probe['open_s']:.2f} s",
            extra={"switch_ms": [round(t, 2) for t in switches], "query_ms": [round(t, 2) for t in probe["query_ms"]]},
        ))
    if "tui.rss" in names:
        bare = json.loads(run_once([sys.executable, *PROBE, "bare"], env)[1].strip().splitlines()[-1])
        rows.append(Row(
            "tui.rss", scratch.backend, probe["rss_kb"] / 1024, "MB", "bare Textual app (Static + Footer)",
            bare["rss_kb"] / 1024,
            f"VmRSS after the calendar opened; after {presses} month switches {probe['rss_end_kb'] / 1024:.0f} MB,"
            f" peak {probe['hwm_kb'] / 1024:.0f} MB",
        ))
    if profile_dir:
        profile_python([*PROBE, "calendar", spec], env, profile_dir / f"tui.calendar-{scratch.backend}")
    return rows
