-- A refunded Stripe charge takes its purchase's credits back ('refund' transactions). Purchases
-- record their payment intent, which is how a charge.refunded event finds its purchase.
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
  CHECK (kind IN ('purchase', 'allowance', 'reserve', 'capture', 'release', 'expire', 'adjustment', 'late_capture',
                  'refund'));
CREATE INDEX ledger_transactions_by_payment_intent ON ledger_transactions ((detail->>'payment_intent'))
  WHERE kind IN ('purchase', 'refund');
