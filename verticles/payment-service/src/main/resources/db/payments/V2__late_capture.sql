-- A job that succeeds after its hold was given back (an operator re-ran the failed job, or its retries
-- outlived the hold's expiry) is charged from the available balance: a late capture.
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
  CHECK (kind IN ('purchase', 'allowance', 'reserve', 'capture', 'release', 'expire', 'adjustment', 'late_capture'));
