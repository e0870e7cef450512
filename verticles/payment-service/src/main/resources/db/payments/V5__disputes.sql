-- A disputed Stripe charge takes its purchase's credits back when the funds are withdrawn and gives
-- them back when they are reinstated ('dispute' transactions, one per dispute and stage). Only this
-- version writes the kind: the previous one runs unchanged against this schema.
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
  CHECK (kind IN ('purchase', 'allowance', 'reserve', 'capture', 'release', 'expire', 'adjustment', 'late_capture',
                  'refund', 'dispute'));
