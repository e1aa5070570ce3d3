"""The machine a run happened on, for latest-machine.json and the README."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def _version(command: list[str]) -> str | None:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else None


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    commit = _version(["git", "-C", str(root), "rev-parse", "--short", "HEAD"])
    dirty = _version(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"])
    return f"{commit}{'+dirty' if dirty else ''}" if commit else None


def describe(postgres_version: str | None) -> dict[str, Any]:
    import peewee
    import rich
    import textual

    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_mb": _memory_mb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "postgresql": postgres_version,
        "sqlite": __import__("sqlite3").sqlite_version,
        "peewee": peewee.__version__,
        "textual": getattr(textual, "__version__", None) or _dist_version("textual"),
        "rich": getattr(rich, "__version__", None) or _dist_version("rich"),
        "khal": _version(["khal", "--version"]),
        "calcurse": _version(["calcurse", "--version"]),
        "load_average_at_start": os.getloadavg(),
        "git": _git_commit(),
    }


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None
