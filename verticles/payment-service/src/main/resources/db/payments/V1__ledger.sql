-- Credits as a double-entry ledger. Every movement is a transaction of entries that sum to zero;
-- entries and transactions are never updated or deleted; balances are the sum of entries, kept
-- in the same database transaction by a trigger and proven by the reconciliation endpoint.
-- Accounts: user:<id> (spendable), user:<id>:reserved (held for queued/running jobs),
-- system:stripe (bought credits come from here), system:allowance, system:revenue, system:adjustments.

CREATE TABLE ledger_transactions (
  id          uuid PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('purchase', 'allowance', 'reserve', 'capture', 'release', 'expire',
                                            'adjustment')),
  user_id     uuid,
  ref         text NOT NULL UNIQUE,        -- idempotency: reserve:<job>, capture:<job>, purchase:<session>, ...
  detail      jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_transactions_by_user ON ledger_transactions (user_id, created_at DESC, id DESC);

CREATE TABLE ledger_entries (
  id          bigserial PRIMARY KEY,
  txn_id      uuid NOT NULL REFERENCES ledger_transactions (id),
  account     text NOT NULL,
  amount      bigint NOT NULL CHECK (amount <> 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_by_txn ON ledger_entries (txn_id);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account);

CREATE TABLE balances (
  account  text PRIMARY KEY,
  amount   bigint NOT NULL DEFAULT 0,
  CONSTRAINT user_balances_never_negative CHECK (amount >= 0 OR account LIKE 'system:%')
);

CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();

-- Each entry moves its account's balance in the same transaction (the CHECK above then refuses
-- any movement that would take a user below zero). Insert-then-update rather than an upsert:
-- Postgres checks constraints on the proposed row of an upsert, which would refuse a debit.
CREATE FUNCTION ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO balances (account, amount) VALUES (NEW.account, 0) ON CONFLICT (account) DO NOTHING;
  UPDATE balances SET amount = amount + NEW.amount WHERE account = NEW.account;
  RETURN NULL;
END $$;
CREATE TRIGGER entries_apply AFTER INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_apply();

-- Every transaction sums to zero, checked when the database transaction commits.
CREATE FUNCTION ledger_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT sum(amount) FROM ledger_entries WHERE txn_id = NEW.txn_id) <> 0 THEN
    RAISE EXCEPTION 'ledger transaction % does not sum to zero', NEW.txn_id;
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_balanced();

-- Credits held for a job between submission and its end.
CREATE TABLE reservations (
  job_id      uuid PRIMARY KEY,
  user_id     uuid NOT NULL,
  amount      bigint NOT NULL CHECK (amount > 0),
  status      text NOT NULL CHECK (status IN ('open', 'captured', 'released', 'expired')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,        -- created_at + queue.ttl + execution.timeout
  settled_at  timestamptz
);
CREATE INDEX reservations_open ON reservations (expires_at) WHERE status = 'open';

-- Stripe events already applied: the primary key makes each apply exactly once.
CREATE TABLE stripe_events (
  id           text PRIMARY KEY,
  type         text NOT NULL,
  created      timestamptz NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);

-- Latest known state of each subscription; older events (out-of-order delivery) never overwrite newer.
CREATE TABLE subscriptions (
  id             text PRIMARY KEY,
  user_id        uuid NOT NULL,
  status         text NOT NULL,
  tier           text NOT NULL,
  event_created  timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_by_user ON subscriptions (user_id);
