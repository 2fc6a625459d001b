-- The projection of the engine's events. Everything here is derived from
-- the journal: `venue backoffice rebuild` truncates these tables and
-- projects the journal again. Amounts are NUMERIC in currency (prices in
-- the quote currency, quantities in the base currency, fees and balances in
-- the asset's currency), never floats. Times are the command's time.
-- No foreign keys to the reference data: the journal is the truth, and a
-- projection must load whatever order the reference data tables are in.

-- +goose Up
-- projector_state is the one row saying how far the projection is: every
-- batch updates last_seq in the transaction that writes its rows, so a seq
-- is projected exactly once. origin_time is the time of the journal's first
-- command: a database holding another journal's projection is refused.
CREATE TABLE projector_state (
    id          smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_time   timestamptz,
    origin_time bigint,  -- unix nanoseconds of seq 1
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO projector_state (id) VALUES (1);

-- orders: each order's current state.
CREATE TABLE orders (
    order_id       bigint   PRIMARY KEY,
    cl_ord_id      text     NOT NULL,
    orig_cl_ord_id text     NOT NULL DEFAULT '',
    session_id     bigint   NOT NULL,
    account_id     bigint   NOT NULL,
    symbol_id      bigint   NOT NULL,
    side           smallint NOT NULL,   -- FIX 54: 1 buy, 2 sell
    ord_type       smallint NOT NULL,   -- FIX 40
    tif            smallint NOT NULL,   -- FIX 59
    stp            char(1)  NOT NULL,   -- resolved self-trade mode (7928)
    post_only      boolean  NOT NULL,
    price          numeric,             -- limit, quote currency; NULL for market
    stop_px        numeric,
    qty            numeric  NOT NULL,   -- base currency
    cum_qty        numeric  NOT NULL,
    leaves_qty     numeric  NOT NULL,
    notional       numeric  NOT NULL,   -- sum of fill price x qty, quote currency
    avg_px         numeric  NOT NULL,
    fees           numeric  NOT NULL,   -- quote currency
    status         char(1)  NOT NULL,   -- FIX 39
    expire_time    timestamptz,
    triggered      boolean  NOT NULL,
    created_seq    bigint   NOT NULL,
    updated_seq    bigint   NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX orders_account ON orders (account_id, created_at);
CREATE INDEX orders_open ON orders (symbol_id) WHERE status IN ('0', '1');

-- executions: one row per ExecutionReport, exec_id as FIX ExecID (17)
-- carries it: "<seq>-<event index>", plus M or T for the maker's and the
-- taker's report of a trade.
CREATE TABLE executions (
    exec_id        text     PRIMARY KEY,
    seq            bigint   NOT NULL,
    event_index    integer  NOT NULL,
    exec_type      char(1)  NOT NULL,   -- FIX 150
    ord_status     char(1)  NOT NULL,   -- FIX 39
    order_id       bigint,              -- NULL for a rejected new order
    cl_ord_id      text     NOT NULL,
    orig_cl_ord_id text     NOT NULL DEFAULT '',
    session_id     bigint   NOT NULL,
    account_id     bigint   NOT NULL,
    symbol_id      bigint   NOT NULL,
    side           smallint NOT NULL,
    ord_type       smallint NOT NULL,
    tif            smallint NOT NULL,
    price          numeric,
    qty            numeric  NOT NULL,
    cum_qty        numeric  NOT NULL,
    leaves_qty     numeric  NOT NULL,
    avg_px         numeric  NOT NULL,
    last_px        numeric,             -- fills
    last_qty       numeric,
    commission     numeric,             -- quote currency
    liquidity      smallint,            -- FIX 851: 1 added (maker), 2 removed (taker)
    trade_id       bigint,
    reason         smallint NOT NULL DEFAULT 0, -- matching.Reason
    ord_rej_reason smallint,            -- FIX 103 of a reject
    text           text     NOT NULL DEFAULT '',
    transact_time  timestamptz NOT NULL
);
CREATE INDEX executions_account ON executions (account_id, transact_time);
CREATE INDEX executions_order ON executions (order_id);

-- trades: one row per match.
CREATE TABLE trades (
    trade_id         bigint   PRIMARY KEY,
    seq              bigint   NOT NULL,
    event_index      integer  NOT NULL,
    symbol_id        bigint   NOT NULL,
    price            numeric  NOT NULL,  -- quote currency
    qty              numeric  NOT NULL,  -- base currency
    notional         numeric  NOT NULL,  -- quote currency
    aggressor        smallint NOT NULL,  -- taker's side
    maker_order_id   bigint   NOT NULL,
    maker_account_id bigint   NOT NULL,
    maker_fee        numeric  NOT NULL,
    taker_order_id   bigint   NOT NULL,
    taker_account_id bigint   NOT NULL,
    taker_fee        numeric  NOT NULL,
    traded_at        timestamptz NOT NULL,
    UNIQUE (seq, event_index)
);
CREATE INDEX trades_symbol ON trades (symbol_id, traded_at);
CREATE INDEX trades_maker ON trades (maker_account_id, traded_at);
CREATE INDEX trades_taker ON trades (taker_account_id, traded_at);

-- ledger_postings: double entry, one line per engine Posting. Append only.
-- The postings of one event (seq, event_index) are one ledger entry: they
-- arrive in one statement and sum to zero per asset, or the statement
-- fails (trigger below).
CREATE TABLE ledger_postings (
    seq           bigint   NOT NULL,
    event_index   integer  NOT NULL,
    posting_index smallint NOT NULL,
    account_id    bigint   NOT NULL,
    asset_id      smallint NOT NULL,
    amount        numeric  NOT NULL,   -- asset currency; + into the account, - out of it
    kind          text     NOT NULL,   -- trade, deposit, withdraw-settle, ...
    ref           text     NOT NULL DEFAULT '', -- trade id or idempotency key
    posted_at     timestamptz NOT NULL,
    PRIMARY KEY (seq, event_index, posting_index)
);
CREATE INDEX ledger_postings_account ON ledger_postings (account_id, asset_id, posted_at);

-- ledger_entries: one row per balanced entry, written by the trigger; its
-- primary key is what refuses postings added to an entry later.
CREATE TABLE ledger_entries (
    seq         bigint   NOT NULL,
    event_index integer  NOT NULL,
    postings    smallint NOT NULL,
    PRIMARY KEY (seq, event_index)
);

-- balances: per account and asset, the sum of its postings (maintained by
-- the trigger, in the statement that inserts the postings).
CREATE TABLE balances (
    account_id bigint   NOT NULL,
    asset_id   smallint NOT NULL,
    amount     numeric  NOT NULL,
    last_seq   bigint   NOT NULL,
    PRIMARY KEY (account_id, asset_id)
);

-- +goose StatementBegin
CREATE FUNCTION ledger_postings_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.seq, n.event_index, n.asset_id, sum(n.amount) AS total INTO bad
    FROM new_postings n
    GROUP BY n.seq, n.event_index, n.asset_id
    HAVING sum(n.amount) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger: postings of seq % event % sum to % in asset %, not zero',
            bad.seq, bad.event_index, bad.total, bad.asset_id
            USING ERRCODE = 'check_violation';
    END IF;
    -- A second statement adding to an entry violates this primary key.
    INSERT INTO ledger_entries (seq, event_index, postings)
    SELECT n.seq, n.event_index, count(*) FROM new_postings n GROUP BY n.seq, n.event_index;
    INSERT INTO balances AS b (account_id, asset_id, amount, last_seq)
    SELECT n.account_id, n.asset_id, sum(n.amount), max(n.seq)
    FROM new_postings n GROUP BY n.account_id, n.asset_id
    ON CONFLICT (account_id, asset_id)
    DO UPDATE SET amount = b.amount + EXCLUDED.amount, last_seq = greatest(b.last_seq, EXCLUDED.last_seq);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_postings_balanced
    AFTER INSERT ON ledger_postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_insert();

-- +goose StatementBegin
CREATE FUNCTION ledger_postings_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: postings are append only (% refused); rebuild truncates', TG_OP
        USING ERRCODE = 'check_violation';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_postings_append_only
    BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_postings_immutable();

-- balance_movements: deposits and withdrawals as the engine saw them,
-- refused and duplicate ones included (reason <> 0).
CREATE TABLE balance_movements (
    seq         bigint   NOT NULL,
    event_index integer  NOT NULL,
    kind        text     NOT NULL,     -- deposit, withdraw-hold, withdraw-release, withdraw-settle
    account_id  bigint   NOT NULL,
    asset_id    smallint NOT NULL,
    amount      numeric  NOT NULL,     -- asset currency
    key         text     NOT NULL,     -- idempotency key
    reason      smallint NOT NULL,     -- 0: applied
    at          timestamptz NOT NULL,
    PRIMARY KEY (seq, event_index)
);
CREATE INDEX balance_movements_key ON balance_movements (key);

-- symbol_state and account_state: trading status and kill switch as the
-- engine last reported them.
CREATE TABLE symbol_state (
    symbol_id   bigint   PRIMARY KEY,
    status      smallint NOT NULL,    -- 1 open, 2 halted, 3 closed
    updated_seq bigint   NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE TABLE account_state (
    account_id  bigint  PRIMARY KEY,
    kill_switch boolean NOT NULL,
    updated_seq bigint  NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE account_state, symbol_state, balance_movements, balances, ledger_entries,
    ledger_postings, trades, executions, orders, projector_state;
DROP FUNCTION ledger_postings_insert(), ledger_postings_immutable();
