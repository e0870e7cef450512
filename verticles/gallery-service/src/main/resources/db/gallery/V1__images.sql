-- Image metadata; the bytes live in S3 under object_key.
CREATE TABLE images (
  id          uuid PRIMARY KEY,             -- derived from the object key, so every service agrees on it
  user_id     uuid NOT NULL,
  job_id      uuid NOT NULL,
  attempt     integer NOT NULL,
  idx         integer NOT NULL,
  object_key  text NOT NULL UNIQUE,
  prompt      text NOT NULL,
  model       text NOT NULL,
  seed        bigint NOT NULL,
  width       integer NOT NULL,
  height      integer NOT NULL,
  size_bytes  bigint NOT NULL,
  sha256      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX images_by_user ON images (user_id, created_at DESC, id DESC);
CREATE INDEX images_by_job ON images (job_id);
