"""Backup and restore in one portable file (gzipped JSON lines), the same on both backends.

A backup is read in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite
in WAL mode), so desks may keep booking while it runs. A restore goes into a database whose schema
is at the same version and holds no rows, in one transaction; so a clinic can also move from its
laptop's SQLite to a PostgreSQL server.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from peewee import BooleanField, CompositeKey, DateField, Model, chunked

from .db import db, is_postgres
from .fields import UTCDateTimeField, from_db
from .migrate import status as schema_status
from .models import ALL_MODELS

FORMAT = "clinic-desk-backup"
FORMAT_VERSION = 1


class BackupError(Exception):
    """The file or the target database cannot be used as asked."""


class NotABackup(BackupError):
    """The file named is not a clinic-desk backup at all (bad input, not a refusal)."""


def _encode(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _rows(model: type[Model]) -> Iterator[dict[str, Any]]:
    columns = [field.column_name for field in model._meta.sorted_fields]
    query = model.select(*model._meta.sorted_fields).order_by(*_order(model)).tuples()
    for row in query.iterator():
        yield {column: _encode(value) for column, value in zip(columns, row)}


def _order(model: type[Model]) -> list[Any]:
    pk = model._meta.primary_key
    if isinstance(pk, CompositeKey):
        return [model._meta.fields[name] for name in pk.field_names]
    return [pk]


def backup(path: Path) -> dict[str, int]:
    """Write every table to ``path`` (atomically: a failed backup leaves no file); row counts per table."""
    counts: dict[str, int] = {}
    partial = path.with_name(path.name + ".partial")
    try:
        with _snapshot(), gzip.open(partial, "wt", encoding="utf-8") as out:
            header = {"format": FORMAT, "version": FORMAT_VERSION, "schema": schema_status().applied}
            out.write(json.dumps(header) + "\n")
            for model in ALL_MODELS:
                table = model._meta.table_name
                counts[table] = 0
                for row in _rows(model):
                    out.write(json.dumps({"t": table, "r": row}, ensure_ascii=False) + "\n")
                    counts[table] += 1
        _sync(partial)  # on disk before it takes the real name: a crash never leaves a torn backup
        partial.replace(path)
        _sync(path.parent)
    finally:
        partial.unlink(missing_ok=True)
    return counts


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _snapshot:
    """One consistent read of all tables."""

    def __enter__(self) -> None:
        db.connect(reuse_if_open=True)
        if is_postgres():
            db.execute_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            db.execute_sql("BEGIN DEFERRED")

    def __exit__(self, *exc: object) -> None:
        db.execute_sql("ROLLBACK" if is_postgres() else "COMMIT")


def _decode(model: type[Model], row: dict[str, Any]) -> dict[str, Any]:
    by_column = {field.column_name: field for field in model._meta.sorted_fields}
    decoded: dict[Any, Any] = {}
    for column, value in row.items():
        field = by_column.get(column)
        if field is None:
            raise BackupError(f"backup has unknown column {model._meta.table_name}.{column}")
        if value is not None and isinstance(field, UTCDateTimeField):
            value = from_db(value)
        elif value is not None and isinstance(field, DateField):
            value = date.fromisoformat(value)
        elif value is not None and isinstance(field, BooleanField):
            value = bool(value)
        decoded[field] = value
    return decoded


def restore(path: Path) -> dict[str, int]:
    """Load ``path`` into this (empty, migrated) database in one transaction."""
    models = {model._meta.table_name: model for model in ALL_MODELS}
    try:
        handle = gzip.open(path, "rt", encoding="utf-8")
        header = json.loads(handle.readline())
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotABackup(f"{path} is not a clinic-desk backup ({exc.__class__.__name__})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise NotABackup(f"{path} is not a clinic-desk backup")
    applied = schema_status().applied
    if header.get("schema") != applied:
        raise BackupError(
            f"schema mismatch: backup has {header.get('schema')}, database has {applied}; run `db upgrade` first"
        )
    counts = {name: 0 for name in models}
    with handle, db.atomic():
        nonempty = [name for name, model in models.items() if model.select().limit(1).exists()]
        if nonempty:
            raise BackupError(f"the target database is not empty (table {nonempty[0]} has rows)")
        batch: list[dict[str, Any]] = []
        current: str | None = None
        for line in handle:
            item = json.loads(line)
            table = item["t"]
            if table not in models:
                raise BackupError(f"backup names unknown table {table}")
            if table != current and batch:
                _insert(models[current], batch)  # type: ignore[index]
                batch = []
            current = table
            batch.append(_decode(models[table], item["r"]))
            counts[table] += 1
        if batch and current:
            _insert(models[current], batch)
        if is_postgres():
            _reset_sequences()
    return counts


def _insert(model: type[Model], rows: list[dict[Any, Any]]) -> None:
    for chunk in chunked(rows, 500):
        model.insert_many(chunk).execute()


def _reset_sequences() -> None:
    for model in ALL_MODELS:
        if isinstance(model._meta.primary_key, CompositeKey):
            continue
        table = model._meta.table_name
        db.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )
