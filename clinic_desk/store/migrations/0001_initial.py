"""The first schema: every table of DESIGN §2 with its constraints and indexes.

Frozen SQL, one dialect each for SQLite and PostgreSQL. Never edit a migration that has shipped:
add a new one.
"""

from peewee import PostgresqlDatabase


def _types(pg: bool) -> dict[str, str]:
    return {
        "id": "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT",
        "ts": "TIMESTAMPTZ" if pg else "TEXT",
        "bool": "BOOLEAN" if pg else "INTEGER",
        "true": "TRUE" if pg else "1",
        "false": "FALSE" if pg else "0",
        "big": "BIGINT" if pg else "INTEGER",
    }


TABLES = """
CREATE TABLE app_user (
    id {id},
    username VARCHAR(64) NOT NULL UNIQUE,
    email VARCHAR(254) NOT NULL UNIQUE,
    full_name VARCHAR(200) NOT NULL,
    phone VARCHAR(40) NOT NULL DEFAULT '',
    role VARCHAR(16) NOT NULL CHECK (role IN ('admin', 'reception', 'doctor', 'patient')),
    password_hash VARCHAR(255) NOT NULL DEFAULT '',
    is_active {bool} NOT NULL DEFAULT {true},
    email_verified_at {ts},
    totp_secret VARCHAR(64),
    totp_confirmed {bool} NOT NULL DEFAULT {false},
    totp_last_step {big},
    failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until {ts},
    created_at {ts} NOT NULL
);
CREATE TABLE user_session (
    id {id},
    user_id INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL,
    revoked_at {ts}
);
CREATE INDEX user_session_user ON user_session (user_id);
CREATE TABLE one_time_code (
    id {id},
    user_id INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    purpose VARCHAR(32) NOT NULL,
    code_hash VARCHAR(128) NOT NULL,
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    used_at {ts}
);
CREATE INDEX one_time_code_user_purpose ON one_time_code (user_id, purpose);
CREATE TABLE specialty (
    id {id},
    name VARCHAR(80) NOT NULL UNIQUE
);
CREATE TABLE doctor (
    id {id},
    user_id INTEGER NOT NULL UNIQUE REFERENCES app_user (id) ON DELETE RESTRICT,
    bio TEXT NOT NULL DEFAULT '',
    room VARCHAR(40) NOT NULL DEFAULT '',
    fee {big} NOT NULL DEFAULT 0 CHECK (fee >= 0),
    is_active {bool} NOT NULL DEFAULT {true}
);
CREATE TABLE doctor_specialty (
    doctor_id INTEGER NOT NULL REFERENCES doctor (id) ON DELETE CASCADE,
    specialty_id INTEGER NOT NULL REFERENCES specialty (id) ON DELETE RESTRICT,
    PRIMARY KEY (doctor_id, specialty_id)
);
CREATE INDEX doctor_specialty_specialty ON doctor_specialty (specialty_id);
CREATE TABLE patient (
    id {id},
    full_name VARCHAR(200) NOT NULL,
    email VARCHAR(254) NOT NULL,
    phone VARCHAR(40) NOT NULL DEFAULT '',
    date_of_birth DATE,
    user_id INTEGER UNIQUE REFERENCES app_user (id) ON DELETE SET NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX patient_email ON patient (email);
CREATE INDEX patient_full_name ON patient (full_name);
CREATE TABLE time_slot (
    id {id},
    doctor_id INTEGER NOT NULL REFERENCES doctor (id) ON DELETE CASCADE,
    starts_at {ts} NOT NULL,
    ends_at {ts} NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'blocked')),
    CHECK (ends_at > starts_at),
    UNIQUE (doctor_id, starts_at)
);
CREATE INDEX time_slot_starts_at ON time_slot (starts_at);
CREATE TABLE appointment (
    id {id},
    slot_id INTEGER NOT NULL REFERENCES time_slot (id) ON DELETE RESTRICT,
    patient_id INTEGER NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    doctor_id INTEGER NOT NULL REFERENCES doctor (id) ON DELETE RESTRICT,
    starts_at {ts} NOT NULL,
    ends_at {ts} NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'cancelled', 'completed', 'no_show')),
    reason TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    price {big} NOT NULL DEFAULT 0 CHECK (price >= 0),
    created_by_id INTEGER REFERENCES app_user (id) ON DELETE SET NULL,
    cancel_reason TEXT NOT NULL DEFAULT '',
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    ics_sequence INTEGER NOT NULL DEFAULT 0,
    CHECK (ends_at > starts_at)
);
CREATE UNIQUE INDEX appointment_one_active_per_slot ON appointment (slot_id) WHERE status <> 'cancelled';
CREATE INDEX appointment_slot ON appointment (slot_id);
CREATE INDEX appointment_doctor_starts ON appointment (doctor_id, starts_at);
CREATE INDEX appointment_patient_starts ON appointment (patient_id, starts_at);
CREATE INDEX appointment_status_starts ON appointment (status, starts_at);
CREATE TABLE wallet (
    id {id},
    patient_id INTEGER NOT NULL UNIQUE REFERENCES patient (id) ON DELETE RESTRICT,
    balance {big} NOT NULL DEFAULT 0 CHECK (balance >= 0),
    updated_at {ts} NOT NULL
);
CREATE TABLE ledger_entry (
    id {id},
    wallet_id INTEGER NOT NULL REFERENCES wallet (id) ON DELETE RESTRICT,
    kind VARCHAR(16) NOT NULL CHECK (kind IN ('deposit', 'withdrawal', 'payment', 'refund')),
    amount {big} NOT NULL CHECK (amount > 0),
    balance_after {big} NOT NULL CHECK (balance_after >= 0),
    appointment_id INTEGER REFERENCES appointment (id) ON DELETE RESTRICT,
    idempotency_key VARCHAR(128) UNIQUE,
    actor_id INTEGER REFERENCES app_user (id) ON DELETE SET NULL,
    note TEXT NOT NULL DEFAULT '',
    at {ts} NOT NULL
);
CREATE INDEX ledger_entry_wallet ON ledger_entry (wallet_id, id);
CREATE INDEX ledger_entry_appointment ON ledger_entry (appointment_id);
CREATE TABLE payment (
    id {id},
    appointment_id INTEGER NOT NULL REFERENCES appointment (id) ON DELETE RESTRICT,
    method VARCHAR(16) NOT NULL CHECK (method IN ('wallet', 'card')),
    amount {big} NOT NULL CHECK (amount > 0),
    refunded_amount {big} NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    status VARCHAR(16) NOT NULL CHECK (status IN ('succeeded', 'declined')),
    card_last4 VARCHAR(4),
    idempotency_key VARCHAR(128) UNIQUE,
    failure_reason TEXT NOT NULL DEFAULT '',
    actor_id INTEGER REFERENCES app_user (id) ON DELETE SET NULL,
    created_at {ts} NOT NULL
);
CREATE UNIQUE INDEX payment_one_success_per_appointment ON payment (appointment_id) WHERE status = 'succeeded';
CREATE INDEX payment_appointment ON payment (appointment_id);
CREATE INDEX payment_created_at ON payment (created_at);
CREATE TABLE review (
    id {id},
    appointment_id INTEGER NOT NULL UNIQUE REFERENCES appointment (id) ON DELETE RESTRICT,
    doctor_id INTEGER NOT NULL REFERENCES doctor (id) ON DELETE RESTRICT,
    patient_id INTEGER NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '',
    status VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    reject_reason TEXT NOT NULL DEFAULT '',
    doctor_response TEXT NOT NULL DEFAULT '',
    responded_at {ts},
    moderated_by_id INTEGER REFERENCES app_user (id) ON DELETE SET NULL,
    moderated_at {ts},
    created_at {ts} NOT NULL
);
CREATE INDEX review_doctor_status ON review (doctor_id, status);
CREATE INDEX review_status ON review (status, id);
CREATE TABLE outbox (
    id {id},
    to_addr VARCHAR(254) NOT NULL,
    subject VARCHAR(255) NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '[]',
    kind VARCHAR(40) NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at {ts} NOT NULL,
    claimed_until {ts},
    last_error TEXT NOT NULL DEFAULT '',
    sent_at {ts},
    created_at {ts} NOT NULL,
    dedupe_key VARCHAR(128) UNIQUE,
    appointment_id INTEGER REFERENCES appointment (id) ON DELETE SET NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_appointment ON outbox (appointment_id);
CREATE TABLE audit_event (
    id {id},
    actor_id INTEGER REFERENCES app_user (id) ON DELETE SET NULL,
    actor_name VARCHAR(64) NOT NULL DEFAULT 'system',
    action VARCHAR(64) NOT NULL,
    entity VARCHAR(32) NOT NULL,
    entity_id {big},
    details TEXT NOT NULL DEFAULT '{{}}',
    at {ts} NOT NULL
);
CREATE INDEX audit_event_entity ON audit_event (entity, entity_id);
CREATE INDEX audit_event_actor ON audit_event (actor_id, at);
CREATE INDEX audit_event_at ON audit_event (at);
"""

# No doctor and no patient holds two overlapping active visits: proved by PostgreSQL itself.
POSTGRES_ONLY = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE appointment ADD CONSTRAINT appointment_doctor_no_overlap
    EXCLUDE USING gist (doctor_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status <> 'cancelled');
ALTER TABLE appointment ADD CONSTRAINT appointment_patient_no_overlap
    EXCLUDE USING gist (patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status <> 'cancelled');
"""


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def up(migrator, db):
    pg = isinstance(db, PostgresqlDatabase)
    script = TABLES.format(**_types(pg))
    if pg:
        script += POSTGRES_ONLY
    for statement in _statements(script):
        db.execute_sql(statement)
