-- A finished job's uploads are looked at once more after its first cleanup, when no upload URL handed
-- out for it can still be used: a worker presumed dead may upload meanwhile. One row per job, the
-- latest terminal attempt's cleanup.
CREATE TABLE cleanup_rechecks (
  job_id  uuid PRIMARY KEY,
  prefix  text NOT NULL,
  up_to   int NOT NULL,
  keep    text[] NOT NULL,
  due_at  timestamptz NOT NULL
);
CREATE INDEX cleanup_rechecks_due ON cleanup_rechecks (due_at);
