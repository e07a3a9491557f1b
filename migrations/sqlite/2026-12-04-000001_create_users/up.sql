-- Users. Emails are stored normalised (trimmed, NFKC, lower-case) by the
-- service; the unique index on lower(email) also keeps any two rows that
-- differ only in case apart. Names are not unique. The CHECKs mirror the
-- PostgreSQL column widths, which SQLite does not enforce by itself.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    email TEXT NOT NULL CHECK (length(email) <= 254),
    name TEXT NOT NULL CHECK (length(name) <= 100),
    password_hash TEXT NOT NULL,
    -- UTC, microsecond precision.
    created_at TIMESTAMP NOT NULL
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
