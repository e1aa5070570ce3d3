"""One row per measurement, its target from issue 10, the Rich table and the JSON files."""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"

_OPERATORS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq}


@dataclass(frozen=True)
class Target:
    """``metric op limit`` where metric is ``value`` or ``ratio``."""

    metric: str
    op: str
    limit: float

    def met(self, row: Row) -> bool | None:
        measured = row.value if self.metric == "value" else row.ratio
        if measured is None:
            return None
        return _OPERATORS[self.op](measured, self.limit)

    def text(self, unit: str) -> str:
        if self.metric == "ratio":
            return f"ratio {self.op} {self.limit:g}"
        return f"{self.op} {self.limit:g} {unit if self.op != '==' else ''}".strip()


# Issue 10's targets (2-core machine). Rows not listed here are reported without one.
TARGETS: dict[tuple[str, str | None], tuple[Target, ...]] = {
    ("slots.generate", None): (Target("ratio", "<=", 2.0),),
    ("booking.race", "postgresql"): (Target("ratio", ">=", 0.30),),
    ("booking.double_bookings", None): (Target("value", "==", 0),),
    ("agenda.day", None): (Target("ratio", "<=", 1.0),),
    ("tui.first_frame", None): (Target("value", "<=", 0.6), Target("ratio", "<=", 3.0)),
    ("tui.month_switch", None): (Target("value", "<=", 50.0),),
    ("query.next_free", None): (Target("value", "<=", 20.0),),
    ("query.month_occupancy", None): (Target("value", "<=", 20.0),),
    ("tui.rss", None): (Target("value", "<=", 150.0),),
}


def targets_for(name: str, backend: str) -> tuple[Target, ...]:
    return TARGETS.get((name, backend)) or TARGETS.get((name, None)) or ()


@dataclass
class Row:
    name: str
    backend: str
    value: float | None
    unit: str
    baseline: str | None = None  # what the baseline is
    baseline_value: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline_value:
            return None
        return self.value / self.baseline_value

    def target_text(self) -> str:
        return " and ".join(t.text(self.unit) for t in targets_for(self.name, self.backend))

    def met(self) -> bool | None:
        verdicts = [t.met(self) for t in targets_for(self.name, self.backend)]
        if not verdicts or any(v is None for v in verdicts):
            return None
        return all(verdicts)

    def as_json(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "name": self.name,
            "backend": self.backend,
            "value": _rounded(self.value),
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_value": _rounded(self.baseline_value),
            "ratio": round(ratio, 3) if ratio is not None else None,
            "target": self.target_text() or None,
            "met": self.met(),
            "note": self.note,
            **({"details": self.extra} if self.extra else {}),
        }


def _rounded(value: float | None) -> float | None:
    if value is None:
        return None
    return round(value, 4) if abs(value) < 100 else round(value, 1)


def _shown(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}" if value else "0"
    return f"{text} {unit}".strip()


def print_table(rows: list[Row], title: str) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, header_style="bold")
    for column, justify in (
        ("benchmark", "left"),
        ("backend", "left"),
        ("value", "right"),
        ("baseline", "left"),
        ("baseline value", "right"),
        ("ratio", "right"),
        ("target", "left"),
        ("met", "center"),
    ):
        table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        met = row.met()
        table.add_row(
            row.name,
            row.backend,
            _shown(row.value, row.unit),
            row.baseline or "–",
            _shown(row.baseline_value, row.unit),
            f"{row.ratio:.2f}" if row.ratio is not None else "–",
            row.target_text() or "–",
            {True: "[green]yes[/]", False: "[red]NO[/]", None: "–"}[met],
        )
    console = Console()
    if not console.is_terminal:  # piped into a file or a CI log: no 80-column squeeze
        console = Console(width=170)
    console.print(table)
    for row in rows:
        if row.note:
            line = Text(f"{row.name} ({row.backend}): ", style="dim")
            line.append(row.note)
            console.print(line, highlight=False)


def write_results(rows: list[dict[str, Any]], machine: dict[str, Any], path: Path) -> Path:
    """``latest.json``: the list of rows; ``latest-machine.json`` beside it: the machine and the run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    machine_path = path.with_name(path.stem + "-machine.json")
    machine_path.write_text(json.dumps(machine, indent=2, default=str) + "\n", encoding="utf-8")
    return path
