-- The router releases a reservation whose outcome it does not know (its request timed out, or
-- payment-service answered 5xx); the reservation may still be waiting for the user's balance lock
-- and commit after that release found nothing to release, holding credits for a job that was never
-- stored. Such a release now leaves a 'voided' row for the job: a reservation arriving later finds
-- it and holds nothing (and one racing it fails on the primary key). The sweeper deletes voided rows
-- once no reservation of theirs can still be in flight.
ALTER TABLE reservations ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE reservations DROP CONSTRAINT reservations_amount_check;
ALTER TABLE reservations DROP CONSTRAINT reservations_status_check;
ALTER TABLE reservations ADD CONSTRAINT reservations_status_check
  CHECK (status IN ('open', 'captured', 'released', 'expired', 'voided'));
ALTER TABLE reservations ADD CONSTRAINT reservations_held_check
  CHECK (status = 'voided' OR (user_id IS NOT NULL AND amount > 0));
CREATE INDEX reservations_voided ON reservations (settled_at) WHERE status = 'voided';
