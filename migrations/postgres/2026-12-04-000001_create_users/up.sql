-- Users. Emails are stored normalised (trimmed, NFKC, lower-case) by the
-- service; the unique index on lower(email) also keeps any two rows that
-- differ only in case apart. Names are not unique.
CREATE TABLE users (
    id VARCHAR(36) PRIMARY KEY,
    email VARCHAR(254) NOT NULL,
    name VARCHAR(100) NOT NULL,
    password_hash TEXT NOT NULL,
    -- UTC, microsecond precision.
    created_at TIMESTAMP NOT NULL
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
