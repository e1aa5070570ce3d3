"""Versioned schema on top of ``playhouse.migrations``: numbered scripts, a history table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playhouse.migrations import Runner

from .db import db, is_postgres

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HISTORY_TABLE = "schema_migration"
_UPGRADE_LOCK = 0x6D696772  # pg_advisory_lock key: two desks upgrading at once take turns


@dataclass(frozen=True)
class SchemaStatus:
    applied: list[str]
    pending: list[str]

    @property
    def version(self) -> int:
        return int(self.applied[-1].split("_", 1)[0]) if self.applied else 0

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def _runner() -> Runner:
    return Runner(db.obj, str(MIGRATIONS_DIR), table_name=HISTORY_TABLE)


def status() -> SchemaStatus:
    rows = _runner().status()
    return SchemaStatus(
        applied=[m.name for m in rows if m.applied],
        pending=[m.name for m in rows if not m.applied and m.path],
    )


def upgrade(target: str | None = None) -> list[str]:
    """Apply pending migrations in order (each in its own transaction); returns their names."""
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_lock(%s)", (_UPGRADE_LOCK,))
    try:
        return _runner().up(target)
    finally:
        if is_postgres():
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (_UPGRADE_LOCK,))


def latest_version() -> int:
    names = sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py"))
    return int(names[-1].split("_", 1)[0]) if names else 0
