-- Generation jobs, their event outbox and (until user-service owns them) API keys.

CREATE TABLE users (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  tier        text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'studio')),
  roles       text[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id),
  key_hash    bytea NOT NULL UNIQUE,       -- SHA-256 of the key; the key itself is shown once
  prefix      text NOT NULL,               -- first characters, to recognise a key in lists
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE jobs (
  id               uuid PRIMARY KEY,
  user_id          uuid NOT NULL,
  tier             text NOT NULL,
  status           text NOT NULL CHECK (status IN ('queued', 'dispatched', 'running', 'succeeded', 'failed', 'canceled')),
  model            text NOT NULL,
  prompt           text NOT NULL,
  params           jsonb NOT NULL,
  priority         integer NOT NULL DEFAULT 0,
  idempotency_key  text,
  request_hash     bytea,
  attempt          integer NOT NULL DEFAULT 0,   -- incremented by each dispatch; fences late results
  max_attempts     integer NOT NULL,
  worker_id        text,
  router_id        text,
  progress_step    integer NOT NULL DEFAULT 0,
  progress_total   integer NOT NULL DEFAULT 0,
  error_code       text,
  error_message    text,
  images           jsonb NOT NULL DEFAULT '[]',
  event_seq        integer NOT NULL DEFAULT 0,   -- seq of the job's last event
  created_at       timestamptz NOT NULL DEFAULT now(),
  queued_at        timestamptz NOT NULL DEFAULT now(),  -- last (re)queue
  not_before       timestamptz,                  -- retry backoff: not dispatchable before this
  dispatched_at    timestamptz,
  started_at       timestamptz,
  finished_at      timestamptz,
  CONSTRAINT jobs_idempotency UNIQUE (user_id, idempotency_key)
);

CREATE INDEX jobs_by_user ON jobs (user_id, created_at DESC, id DESC);
CREATE INDEX jobs_by_user_status ON jobs (user_id, status, created_at DESC, id DESC);
CREATE INDEX jobs_queued ON jobs (created_at) WHERE status = 'queued';
CREATE INDEX jobs_active ON jobs (router_id, worker_id) WHERE status IN ('dispatched', 'running');

-- Transactional outbox: every state change of a job writes its event here in the same transaction;
-- the relay publishes rows to Kafka (generation.events, key = job id) in id order, then deletes them.
CREATE TABLE outbox (
  id          bigserial PRIMARY KEY,
  job_id      uuid NOT NULL,
  user_id     uuid NOT NULL,
  seq         integer NOT NULL,
  type        text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Wake the relay as soon as a transaction commits events (one notification per statement).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pingvas_outbox', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Router replicas and their leases: jobs held by a replica whose lease lapsed are re-queued.
CREATE TABLE routers (
  id           text PRIMARY KEY,
  started_at   timestamptz NOT NULL DEFAULT now(),
  lease_until  timestamptz NOT NULL
);
