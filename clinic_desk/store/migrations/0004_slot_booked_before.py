"""A slot remembers that it was booked once, even after its appointment moved to another slot:
only a slot never booked may be deleted. Earlier moves are read back from the audit log. The
column has a default in the database, so bulk inserts that do not name it (COPY) stay valid."""

from peewee import PostgresqlDatabase


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ALTER TABLE time_slot ADD COLUMN booked_before BOOLEAN NOT NULL DEFAULT FALSE")
        moved_from = "SELECT (details::jsonb ->> 'from_slot')::bigint FROM audit_event WHERE action = 'appointment.reschedule'"
        db.execute_sql(f"UPDATE time_slot SET booked_before = TRUE WHERE id IN ({moved_from})")
    else:
        db.execute_sql("ALTER TABLE time_slot ADD COLUMN booked_before INTEGER NOT NULL DEFAULT 0")
        moved_from = "SELECT json_extract(details, '$.from_slot') FROM audit_event WHERE action = 'appointment.reschedule'"
        db.execute_sql(f"UPDATE time_slot SET booked_before = 1 WHERE id IN ({moved_from})")
