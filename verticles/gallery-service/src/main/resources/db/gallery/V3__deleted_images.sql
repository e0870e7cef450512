-- Images their owners deleted: ingest is at-least-once, and a replayed job.succeeded must not bring
-- a deleted image's row back (pointing at objects that are gone). One small row per deleted image.
CREATE TABLE deleted_images (
  id          uuid PRIMARY KEY,
  deleted_at  timestamptz NOT NULL DEFAULT now()
);
