DROP TABLE login_failures;
DROP TABLE rate_limit_windows;
