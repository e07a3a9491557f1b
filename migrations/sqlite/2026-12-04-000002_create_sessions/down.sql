DROP TABLE retired_refresh_tokens;
DROP TABLE sessions;
ALTER TABLE users DROP COLUMN tokens_valid_after;
