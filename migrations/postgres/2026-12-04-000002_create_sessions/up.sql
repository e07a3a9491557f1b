-- Access tokens without a session claim issued before this time (UTC) are
-- refused. Set when a user ends all sessions or changes password.
ALTER TABLE users ADD COLUMN tokens_valid_after TIMESTAMP;

-- One row per login. The current refresh token is stored only as its
-- SHA-256 digest (hex). Times are UTC.
CREATE TABLE sessions (
    id VARCHAR(36) PRIMARY KEY,
    user_id VARCHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_digest VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    user_agent VARCHAR(256),
    ip VARCHAR(64)
);

CREATE UNIQUE INDEX sessions_refresh_digest_key ON sessions (refresh_digest);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Digests of refresh tokens replaced by rotation, kept to detect reuse.
CREATE TABLE retired_refresh_tokens (
    digest VARCHAR(64) PRIMARY KEY,
    session_id VARCHAR(36) NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    retired_at TIMESTAMP NOT NULL
);

CREATE INDEX retired_refresh_tokens_session_id_idx ON retired_refresh_tokens (session_id);
