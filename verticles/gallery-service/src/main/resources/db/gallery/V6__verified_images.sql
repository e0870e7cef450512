-- An image's row is written when the router's verification of its upload passes, before the job's
-- job.succeeded event reaches the ingest: the URL the router answers with then works the moment the
-- job reads succeeded. Such a row is not listed until the event confirms it; if the attempt did not
-- succeed after all (canceled meanwhile, a result fenced off), the job's cleanup removes it
-- (found through images_by_job).
ALTER TABLE images ADD COLUMN confirmed boolean NOT NULL DEFAULT true;
