"""Timing whole processes: wall time from spawn to exit (or to a "ready" line), medians, and a
profiled extra run (cProfile plus ``-X importtime``) when ``--profile DIR`` asks for one."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def clinic_desk_command() -> list[str]:
    """The installed console script, as a user runs it (else ``python -m clinic_desk``)."""
    script = Path(sys.executable).with_name("clinic-desk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "clinic_desk"]


def run_once(command: Sequence[str], env: dict[str, str], *, timeout: float = 120) -> tuple[float, str]:
    """(wall seconds from spawn to exit, stdout); fails loudly when the command fails."""
    started = time.perf_counter()
    done = subprocess.run(list(command), env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {(done.stderr or done.stdout).strip()[-1500:]}")
    return seconds, done.stdout


def interleaved(measures: dict[str, Callable[[], float]], runs: int, *, warm_up: int = 1) -> dict[str, list[float]]:
    """Each measure ``runs`` times, taking turns (ours, the baseline, ours, ...), so that both see
    the same machine: on a shared machine the load comes and goes. Warm-up rounds are not kept."""
    for _ in range(warm_up):
        for measure in measures.values():
            measure()
    times: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(runs):
        for name, measure in measures.items():
            times[name].append(measure())
    return times


def until_ready(command: Sequence[str], env: dict[str, str], *, timeout: float = 120) -> tuple[float, str]:
    """Seconds from spawn until the child prints its first line (its "ready" report), and that line.
    The child's own exit is not counted."""
    started = time.perf_counter()
    child = subprocess.Popen(list(command), env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        seconds = time.perf_counter() - started
        _, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        raise
    if child.returncode != 0 or not line:
        raise RuntimeError(f"{' '.join(command)} exited {child.returncode}: {err.strip()[-800:]}")
    return seconds, line.strip()


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def profile_python(arguments: Sequence[str], env: dict[str, str], destination: Path) -> None:
    """Run ``python ARGUMENTS`` once under cProfile (``destination``.prof) and once with
    ``-X importtime`` (``destination``.importtime.txt): where a start-up's time goes."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "cProfile", "-o", f"{destination}.prof", *arguments],
                   env=env, cwd=REPO, capture_output=True, timeout=300)
    done = subprocess.run([sys.executable, "-X", "importtime", *arguments],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    Path(f"{destination}.importtime.txt").write_text(done.stderr, encoding="utf-8")
