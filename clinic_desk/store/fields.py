"""Column types shared by the models: UTC timestamps that work the same on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import Field

SQLITE_TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def to_sqlite_text(value: datetime) -> str:
    """The one text form of a UTC instant on SQLite; sorts like the instant itself."""
    value = value.astimezone(UTC)
    text = value.strftime(SQLITE_TS_FORMAT)
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text


def from_db(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class UTCDateTimeField(Field):
    """An aware UTC datetime: ``timestamptz`` on PostgreSQL, sortable ISO text on SQLite."""

    field_type = "TIMESTAMPTZ"

    def db_value(self, value: datetime | None) -> object:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"{self.name}: expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"{self.name}: naive datetime; times must carry a time zone")
        if _is_sqlite(self):
            return to_sqlite_text(value)
        return value.astimezone(UTC)

    def python_value(self, value: object) -> datetime | None:
        return from_db(value)


def _is_sqlite(field: Field) -> bool:
    from peewee import SqliteDatabase

    database = field.model._meta.database
    database = getattr(database, "obj", database)
    return isinstance(database, SqliteDatabase)
