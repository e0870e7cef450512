-- The job listing is served by jobs_by_user_status alone (PgJobStore.list merges one ordered scan per
-- status for the unfiltered list). A status change cannot be a HOT update, so every write of a job
-- added an entry to each index: one fewer per write.
DROP INDEX jobs_by_user;
