-- Fee schedules: what an account's fee_tier costs. The running venue sets
-- them in the engine (CmdSetFeeTier) when they change; the dev bootstrap
-- inserts tier 0 (maker 1 bp, taker 2 bp) if it is missing.

-- +goose Up
CREATE TABLE fee_tiers (
    tier       smallint PRIMARY KEY CHECK (tier >= 0 AND tier < 16),
    maker_ppm  integer  NOT NULL CHECK (maker_ppm >= 0 AND maker_ppm <= 1000000), -- millionths of notional; 1 bp = 100
    taker_ppm  integer  NOT NULL CHECK (taker_ppm >= 0 AND taker_ppm <= 1000000),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE fee_tiers;
