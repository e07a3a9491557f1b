-- Counters of the abuse limits, shared by every connection to this file.
-- Keys are hex SHA-256 digests of the limit's key (a route and client
-- address, or a normalised email as sent), so no address or email is stored
-- here. Times are UTC.

-- Requests per client in fixed windows aligned to the Unix epoch.
CREATE TABLE rate_limit_windows (
    key_digest TEXT PRIMARY KEY NOT NULL CHECK (length(key_digest) = 64),
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL
);

CREATE INDEX rate_limit_windows_window_start_idx ON rate_limit_windows (window_start);

-- Failed logins in a row per account key, known account or not.
CREATE TABLE login_failures (
    key_digest TEXT PRIMARY KEY NOT NULL CHECK (length(key_digest) = 64),
    failures INTEGER NOT NULL,
    last_failed_at TIMESTAMP NOT NULL
);

CREATE INDEX login_failures_last_failed_at_idx ON login_failures (last_failed_at);
