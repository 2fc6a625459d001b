-- Reference data: who trades what. Bootstrapped from the venue's reference
-- data at start (upserts of what the configuration says); the operator
-- fields (status, KYC tier, throttle) are owned here and never overwritten
-- by the bootstrap. Ids are the engine's integer ids.

-- +goose Up
CREATE TABLE assets (
    id         smallint PRIMARY KEY,
    name       text     NOT NULL UNIQUE,
    unit       numeric  NOT NULL CHECK (unit > 0), -- currency per engine unit (BTC: 0.00000001)
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE firms (
    id         bigint PRIMARY KEY,               -- engine FirmID; 0 is the venue itself
    name       text   NOT NULL UNIQUE,
    status     text   NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id              bigint   PRIMARY KEY,        -- engine AccountID; 0 external, 1 fees
    firm_id         bigint   NOT NULL REFERENCES firms (id),
    name            text     NOT NULL UNIQUE,    -- FIX Account (1)
    kyc_tier        smallint NOT NULL DEFAULT 0 CHECK (kyc_tier >= 0),
    status          text     NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    fee_tier        smallint NOT NULL DEFAULT 0 CHECK (fee_tier >= 0 AND fee_tier < 16),
    default_stp     char(1)  NOT NULL DEFAULT 'N' CHECK (default_stp IN ('O', 'N', 'B', 'D')),
    stp_firm        boolean  NOT NULL DEFAULT false, -- self-trade means same firm
    max_open_orders integer  NOT NULL DEFAULT 10000 CHECK (max_open_orders >= 0),
    reserved        boolean  NOT NULL DEFAULT false, -- the venue's own (external, fees): never trades
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_firm ON accounts (firm_id);

-- users are people (operators, firm staff) who log in to the admin
-- endpoint or the CLI; firm_id NULL is a venue operator.
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    firm_id       bigint REFERENCES firms (id),
    username      text   NOT NULL UNIQUE,
    password_hash text   NOT NULL CHECK (password_hash LIKE '$2%' OR password_hash LIKE '$argon2id$%'),
    role          text   NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'trader')),
    status        text   NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE fix_sessions (
    id                   bigint PRIMARY KEY,     -- engine SessionID
    comp_id              text   NOT NULL UNIQUE, -- TargetCompID of the counterparty; Logon 553
    kind                 text   NOT NULL CHECK (kind IN ('order-entry', 'drop-copy', 'market-data')),
    firm_id              bigint NOT NULL REFERENCES firms (id),
    default_account_id   bigint REFERENCES accounts (id),
    password_hash        text   NOT NULL,        -- bcrypt; never the password
    cancel_on_disconnect boolean NOT NULL DEFAULT false,
    throttle_per_second  integer CHECK (throttle_per_second > 0), -- NULL: fix.throttle_per_second
    status               text   NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- fix_session_accounts are the accounts an order-entry session may act for
-- (always its firm's).
CREATE TABLE fix_session_accounts (
    session_id bigint NOT NULL REFERENCES fix_sessions (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (session_id, account_id)
);

CREATE TABLE symbols (
    id           bigint   PRIMARY KEY,           -- engine SymbolID
    name         text     NOT NULL UNIQUE,       -- BTC-USD
    base_asset   smallint NOT NULL REFERENCES assets (id),
    quote_asset  smallint NOT NULL REFERENCES assets (id),
    tick         numeric  NOT NULL CHECK (tick > 0),     -- quote currency
    qty_step     numeric  NOT NULL CHECK (qty_step > 0), -- base currency
    min_qty      numeric  NOT NULL CHECK (min_qty > 0),
    max_qty      numeric  NOT NULL CHECK (max_qty >= min_qty),
    max_notional numeric  NOT NULL CHECK (max_notional > 0), -- quote currency
    ref_px       numeric  NOT NULL CHECK (ref_px > 0),
    band_bps     integer  NOT NULL CHECK (band_bps > 0 AND band_bps < 10000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (base_asset <> quote_asset)
);

-- audit_log records every operator action: who, what, when, and the
-- journal seq of the command it submitted, if any.
CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,            -- username, or 'system'
    source  text NOT NULL DEFAULT 'cli' CHECK (source IN ('cli', 'http', 'system')),
    action  text NOT NULL,            -- e.g. symbol.halt, account.kill_switch
    target  text,                     -- e.g. BTC-USD, FIRM_A
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    outcome text NOT NULL DEFAULT 'ok', -- ok, or the error
    seq     bigint                    -- journal seq of the command, if one was submitted
);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose Down
DROP TABLE audit_log, symbols, fix_session_accounts, fix_sessions, users, accounts, firms, assets;
