-- Console sign-in attempts per client address, shared by every server process on the
-- database (`Store::count_sign_in_attempt`): a generic cell rate limit kept as the
-- client's "theoretical arrival time" (`tat`, microseconds since the Unix epoch). Rows
-- whose time has passed are deleted as attempts come in.
CREATE TABLE console_sign_in_limits (
    client TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
