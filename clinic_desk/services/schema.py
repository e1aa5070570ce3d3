"""Schema upkeep and backups: run by whoever holds the database's credentials (no actor)."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput, Refused
from ..store import backup as store_backup
from ..store import migrate
from ..store.migrate import SchemaStatus
from .tx import reads


def upgrade() -> list[str]:
    return migrate.upgrade()


@reads
def schema_status() -> SchemaStatus:
    return migrate.status()


def require_current_schema() -> None:
    """Refuse to work on a database whose schema is missing or behind."""
    current = schema_status()
    if not current.applied:
        raise Refused("the database has no schema yet: run `clinic-desk db upgrade`")
    if current.pending:
        raise Refused(f"the schema is {len(current.pending)} step(s) behind: run `clinic-desk db upgrade`")


def backup(path: Path) -> dict[str, int]:
    try:
        return store_backup.backup(path)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from None


def restore(path: Path) -> dict[str, int]:
    try:
        return store_backup.restore(path)
    except store_backup.NotABackup as exc:
        raise BadInput(str(exc)) from None
    except store_backup.BackupError as exc:
        raise Refused(str(exc)) from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
