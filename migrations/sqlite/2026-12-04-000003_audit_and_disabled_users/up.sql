-- When an operator disabled the user (UTC); NULL while enabled.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;

-- Security-relevant events for operators. No foreign keys: the records
-- outlive the users and sessions they name. Never holds an email,
-- password or token.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TIMESTAMP NOT NULL,
    event TEXT NOT NULL CHECK (length(event) <= 64),
    user_id TEXT CHECK (length(user_id) = 36),
    session_id TEXT CHECK (length(session_id) = 36),
    ip TEXT CHECK (length(ip) <= 64)
);

CREATE INDEX audit_events_user_id_idx ON audit_events (user_id, id);
