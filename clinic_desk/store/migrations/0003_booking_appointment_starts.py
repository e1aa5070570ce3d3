"""Appointments by time for every doctor at once (`appointments list --date D`): an index on starts_at."""


def up(migrator, db):
    db.execute_sql("CREATE INDEX appointment_starts ON appointment (starts_at)")
