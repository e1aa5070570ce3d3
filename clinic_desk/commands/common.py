"""What every command shares: settings, the database, who acts, and safe output.

Output rules: user-supplied text never reaches the terminal raw (no Rich markup, no escape
sequences); ``--json`` prints plain JSON; a command that creates something prints its id.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

from .. import config
from ..errors import BadInput
from ..services.actors import Actor
from ..services.controls import shown as safe  # stored text printed: escapes shown, not obeyed


class _State:
    config_path: str | None = None
    database_url: str | None = None
    settings: config.Settings | None = None
    database_open = False
    actor: Actor | None = None


state = _State()

# The largest id a row can have (64-bit columns): id and count options stop there, so a longer
# number is bad input (exit 2), not a database overflow; ids start at 1.
MAX_ID = 2**63 - 1
ID_RANGE = {"min": 1, "max": MAX_ID}  # typer.Argument(..., **ID_RANGE) for an id


def configure(config_path: str | None, database_url: str | None) -> None:
    """Called by the root callback with the global options; nothing is read yet."""
    state.config_path = config_path
    state.database_url = database_url
    state.settings = None
    state.database_open = False
    state.actor = None


def settings() -> config.Settings:
    if state.settings is None:
        state.settings = config.use(config.load_settings(state.config_path, state.database_url))
    return state.settings


def open_db() -> None:
    """Bind the store to the configured database (once per process)."""
    if state.database_open:
        return
    from ..store.db import open_database

    current = settings()
    try:
        open_database(
            current.database_url,
            password=config.database_password(current),
            busy_timeout_ms=current.database.busy_timeout_ms,
            connect_timeout_s=current.database.connect_timeout_s,
        )
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    except OSError as exc:  # the SQLite file's directory cannot be made (a file in the way, no permission)
        raise BadInput(f"cannot create the database directory {exc.filename}: {exc.strerror or exc}") from None
    state.database_open = True


def actor() -> Actor:
    """Who runs this command: the env route for scripts, else the session saved by ``login``."""
    if state.actor is None:
        open_db()
        from .auth import resolve_actor

        state.actor = resolve_actor()
    return state.actor


# -- output -------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# JSON escapes C0 controls itself; DEL and C1 (8-bit CSI and friends) are escaped here, as \u00XX.
_JSON_UNESCAPED_CONTROL = re.compile(r"[\x7f-\x9f]")


def print_json(data: Any) -> None:
    text = json.dumps(_jsonable(data), indent=2, ensure_ascii=False)
    sys.stdout.write(_JSON_UNESCAPED_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


# On a terminal, columns whose every cell is at most this long (ids, amounts, statuses,
# "2026-11-26 09:30") are never wrapped, so a narrow window wraps only the prose.
SHORT_CELL = 16
PIPED_WIDTH = 100_000  # piped or redirected: one line per row, whatever its length (grep, cut, less -S)


def print_table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str | None = None) -> None:
    """A Rich table whose cells are literal text (markup and escapes are shown, not obeyed)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cells = [[safe(cell) for cell in row] for row in rows]
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=False, width=PIPED_WIDTH)
    if not cells:
        console.print(Text("(none)"))
        return
    table = Table(title=Text(safe(title)) if title else None, header_style="bold", show_lines=False)
    for index, column in enumerate(columns):
        short = all(len(row[index]) <= SHORT_CELL for row in cells)
        table.add_column(column, overflow="fold", no_wrap=short)
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)


def print_fields(pairs: Sequence[tuple[str, object]]) -> None:
    """A 'show' view: one 'label  value' line each, values literal."""
    width = max((len(label) for label, _ in pairs), default=0)
    for label, value in pairs:
        sys.stdout.write(f"{label.ljust(width)}  {safe(value)}\n")


def print_line(text: object) -> None:
    sys.stdout.write(safe(text) + "\n")


def warn(text: str) -> None:
    sys.stderr.write(f"warning: {safe(text)}\n")


def warn_if_cut(shown: int, limit: int, narrow: str) -> None:
    """Say on stderr when a listing stopped at its --limit: a script must not take it for all."""
    if shown == limit:
        warn(f"showing the first {limit}; {narrow} or raise --limit")
