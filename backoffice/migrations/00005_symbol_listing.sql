-- A symbol listed by `venue admin symbol add` may start halted: the
-- running venue adds it to the engine with this status, and an operator
-- opens it with `venue admin resume`. Afterwards the engine owns the
-- status (symbol_state projects it).

-- +goose Up
ALTER TABLE symbols ADD COLUMN listed_halted boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE symbols DROP COLUMN listed_halted;
