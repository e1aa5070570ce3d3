"""Doctors keep their approved-review aggregate; patients can opt out of reminders."""

from peewee import BooleanField, IntegerField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("doctor", "rating_count", IntegerField(default=0)),
        migrator.add_column("doctor", "rating_total", IntegerField(default=0)),
        migrator.add_column("patient", "reminders_opt_out", BooleanField(default=False)),
    )
    db.execute_sql("CREATE INDEX doctor_rating ON doctor (rating_count, rating_total)")
