-- A job placed on a worker at admission commits job.queued and job.dispatched together, as one outbox
-- row: job.dispatched's data, and the job.queued event's data in its own column (read as is by the
-- relay, which publishes both as one record; null on every other row).
ALTER TABLE outbox ADD COLUMN preceded jsonb;
