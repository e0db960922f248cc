-- Sign-in attempts per client address, counted in fixed windows, so that
-- every Maca process shares one count (server/rate_limit.py).
--
-- The address is kept only as its SHA-256: the table says how often
-- someone tried, never who.

CREATE TABLE sign_in_attempts (
    bucket        text NOT NULL,
    client_hash   bytea NOT NULL,
    window_start  timestamptz NOT NULL,
    attempts      integer NOT NULL,
    PRIMARY KEY (bucket, client_hash, window_start)
);

CREATE INDEX sign_in_attempts_window ON sign_in_attempts (window_start);
