"""`python -m benchmarks`: build a scratch clinic per backend, run the measurements, print the
table, write the JSON. A measurement that fails is reported as a row without a value (and its
traceback on stderr); the others still run, and the exit status is 1. Missed targets are
findings, not failures: the exit status stays 0."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from . import machine, report, scratch
from .peers import PeerCalendars
from .report import Row
from .sizes import FULL, QUICK, Sizes

NAMES = (
    "slots.generate",
    "booking.race",
    "booking.double_bookings",
    "agenda.day",
    "agenda.day.vs_calcurse",
    "tui.first_frame",
    "tui.month_switch",
    "query.next_free",
    "query.month_occupancy",
    "tui.rss",
)
NEEDS_APPOINTMENTS = set(NAMES) - {"slots.generate", "tui.first_frame"}
UNITS = {"slots.generate": "s", "booking.race": "bookings/s", "booking.double_bookings": "count", "agenda.day": "s",
         "agenda.day.vs_calcurse": "s", "tui.first_frame": "s", "tui.month_switch": "ms", "query.next_free": "ms",
         "query.month_occupancy": "ms", "tui.rss": "MB"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the size, for a quick look")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only these rows: a name or a prefix (slots, booking, agenda, tui, query); repeatable")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="also write cProfile (.prof) and -X importtime files of each measurement into DIR")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="where the rows go (default results/latest.json, with --quick results/quick.json)")
    return parser.parse_args(argv)


def selected_names(only: list[str] | None) -> set[str]:
    if not only:
        return set(NAMES)
    tokens = [t.strip() for item in only for t in item.split(",") if t.strip()]
    chosen = {n for n in NAMES for t in tokens if n == t or n.startswith(t + ".") or n.split(".")[0] == t}
    unknown = [t for t in tokens if not any(n == t or n.startswith(t + ".") or n.split(".")[0] == t for n in NAMES)]
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(NAMES)}")
    if "booking.race" in chosen or "booking.double_bookings" in chosen:
        chosen |= {"booking.race", "booking.double_bookings"}
    return chosen


def say(text: str) -> None:
    sys.stderr.write(f"{datetime.now():%H:%M:%S} {text}\n")
    sys.stderr.flush()


class Run:
    def __init__(self, sizes: Sizes, names: set[str], profile_dir: Path | None) -> None:
        self.sizes = sizes
        self.names = names
        self.profile_dir = profile_dir
        self.rows: list[Row] = []
        self.timings: dict[str, float] = {}
        self.failures = 0
        self._peers_dir = Path(tempfile.mkdtemp(prefix="clinic-desk-bench-peers-"))
        self._peers: PeerCalendars | None = None

    def step(self, label: str, backend: str, names: set[str], work: Callable[[], list[Row]]) -> None:
        """Run one measurement; a failure becomes rows without values (traceback on stderr)."""
        wanted = names & self.names
        if not wanted:
            return
        say(f"[{backend}] {label} ...")
        started = time.perf_counter()
        try:
            rows = work()
        except Exception as exc:  # noqa: BLE001 - report it and go on with the others
            traceback.print_exc()
            rows = [Row(name, backend, None, UNITS[name], note=f"FAILED: {type(exc).__name__}: {exc}"[:400])
                    for name in sorted(wanted)]
            self.failures += 1
        seconds = time.perf_counter() - started
        self.timings[f"{backend}:{label}"] = round(seconds, 1)
        say(f"[{backend}] {label} done in {seconds:.1f} s")
        self.rows.extend(row for row in rows if row.name in self.names)

    def peers(self, day: date) -> PeerCalendars:
        """khal and calcurse calendars, built on first use and shared by both backends."""
        if self._peers is None:
            from . import peers

            say(f"importing {self.sizes.peer_events:,} events into khal and calcurse ...")
            started = time.perf_counter()
            self._peers = peers.build(self._peers_dir, day, self.sizes.peer_events)
            self.timings["peer import"] = round(time.perf_counter() - started, 1)
        return self._peers

    def backend(self, backend: str) -> None:
        from . import bench_agenda, bench_booking, bench_queries, bench_slots, bench_tui, dataset

        with scratch.scratch_database(backend) as db_scratch:
            say(f"[{backend}] scratch database {db_scratch.url}")
            people = dataset.create_people(self.sizes)
            if "slots.generate" in self.names:
                self.step("slots.generate", backend, {"slots.generate"},
                          lambda: bench_slots.run(people, db_scratch, measure=True, profile_dir=self.profile_dir))
            else:
                say(f"[{backend}] generating slots (not measured) ...")
                bench_slots.run(people, db_scratch, measure=False)
            if not self.names & NEEDS_APPOINTMENTS:
                self.step("tui.first_frame", backend, {"tui.first_frame"},
                          lambda: bench_tui.first_frame(db_scratch, self.sizes, self.profile_dir))
                return
            say(f"[{backend}] loading {self.sizes.appointments:,} appointments ...")
            data = dataset.load_appointments(people, self.sizes)
            self.timings[f"{backend}:data set"] = round(data.load_seconds, 1)
            say(f"[{backend}] data set in {data.load_seconds:.1f} s; busiest doctor {data.busiest_username},"
                f" agenda day {data.agenda_day} ({data.agenda_rows} appointments)")
            self.step("queries", backend, {"query.next_free", "query.month_occupancy"},
                      lambda: bench_queries.run(data, db_scratch, self.sizes, self.profile_dir, self.names))
            self.step("agenda.day", backend, {"agenda.day", "agenda.day.vs_calcurse"},
                      lambda: bench_agenda.run(data, db_scratch, self.sizes,
                                               lambda: self.peers(data.agenda_day),
                                               self.profile_dir))
            self.step("tui.first_frame", backend, {"tui.first_frame"},
                      lambda: bench_tui.first_frame(db_scratch, self.sizes, self.profile_dir))
            self.step("tui calendar", backend, {"tui.month_switch", "tui.rss"},
                      lambda: bench_tui.calendar(data, db_scratch, self.sizes, self.profile_dir, self.names))
            self.step("booking.race", backend, {"booking.race", "booking.double_bookings"},
                      lambda: bench_booking.run(data, db_scratch, self.sizes, self.profile_dir))

    def close(self) -> None:
        import shutil

        shutil.rmtree(self._peers_dir, ignore_errors=True)


def _merge(path: Path, rows: list[Row]) -> list[dict]:
    """With --only: the file's other rows stay, these replace their namesakes."""
    fresh = [row.as_json() for row in rows]
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fresh
    replaced = {(r["name"], r["backend"]) for r in fresh}
    return [r for r in old if (r.get("name"), r.get("backend")) not in replaced] + fresh


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    names = selected_names(args.only)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        args.profile = args.profile.resolve()
    pg_version = scratch.postgres_version()
    machine_info = machine.describe(pg_version)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    run = Run(sizes, names, args.profile)
    try:
        for backend in backends:
            if backend == "postgresql" and pg_version is None:
                note = (f"PostgreSQL not reachable at {scratch.admin_url()}: start it, or point"
                        f" {scratch.ADMIN_URL_ENV} at a server where this user may CREATE DATABASE")
                say(note)
                run.rows.extend(Row(name, backend, None, UNITS[name], note=note) for name in NAMES if name in names)
                continue
            try:
                run.backend(backend)
            except Exception as exc:  # noqa: BLE001 - setting up this backend failed: say so, go on
                traceback.print_exc()
                done = {row.name for row in run.rows if row.backend == backend}
                note = f"FAILED while preparing {backend}: {type(exc).__name__}: {exc}"[:400]
                run.rows.extend(Row(n, backend, None, UNITS[n], note=note) for n in NAMES if n in names - done)
                run.failures += 1
    finally:
        run.close()
    total = time.perf_counter() - started
    order = {name: n for n, name in enumerate(NAMES)}
    rows = sorted(run.rows, key=lambda r: (order[r.name], r.backend))
    mode = "quick" if args.quick else "full"
    report.print_table(
        rows, f"clinic-desk benchmarks ({mode}: {sizes.doctors} doctors, {sizes.appointments:,} appointments) in {total:.0f} s"
    )
    info = {
        "machine": machine_info,
        "run": {
            "mode": mode,
            "started_at": started_at.isoformat(timespec="seconds"),
            "seconds": round(total, 1),
            "backends": backends,
            "only": sorted(names) if args.only else None,
            "sizes": vars(sizes),
            "step_seconds": run.timings,
            "load_average_at_end": os.getloadavg(),
        },
    }
    output = args.output or report.RESULTS_DIR / ("quick.json" if args.quick else "latest.json")
    payload = _merge(output, rows) if args.only else [row.as_json() for row in rows]
    path = report.write_results(payload, info, output)
    say(f"wrote {path} and {path.with_name(path.stem + '-machine.json')}")
    if run.failures:
        sys.exit(f"{run.failures} measurement(s) failed: see FAILED in the table")
