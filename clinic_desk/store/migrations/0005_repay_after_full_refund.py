"""One open payment per appointment, not one ever: a payment refunded in full no longer counts, so
an appointment that staff refunded (say, paid by mistake) can be paid again."""


def up(migrator, db):
    db.execute_sql("DROP INDEX payment_one_success_per_appointment")
    db.execute_sql(
        "CREATE UNIQUE INDEX payment_one_open_per_appointment ON payment (appointment_id)"
        " WHERE status = 'succeeded' AND refunded_amount < amount"
    )
