-- When an operator disabled the user (UTC); NULL while enabled.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;

-- Security-relevant events for operators. No foreign keys: the records
-- outlive the users and sessions they name. Never holds an email,
-- password or token.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    event VARCHAR(64) NOT NULL,
    user_id VARCHAR(36),
    session_id VARCHAR(36),
    ip VARCHAR(64)
);

CREATE INDEX audit_events_user_id_idx ON audit_events (user_id, id);
