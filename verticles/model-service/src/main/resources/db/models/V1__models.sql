-- The model registry: checkpoints and the LoRAs that apply to them.
CREATE TABLE models (
  name            text PRIMARY KEY,           -- what jobs name in "model" and "loras[].name"
  kind            text NOT NULL CHECK (kind IN ('checkpoint', 'lora')),
  base            text NOT NULL,              -- architecture family: sd-1.5, sdxl, flux...; a LoRA needs its checkpoint's
  size_mb         integer NOT NULL CHECK (size_mb >= 0),
  vram_mb         integer NOT NULL CHECK (vram_mb >= 0),
  source          text NOT NULL,              -- s3://bucket/key of the weights
  sha256          text,
  default_params  jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Which models each connected worker holds, from the routers' worker.events. One row per worker;
-- session_id tells a stale "gone" (from the replica the worker left) from the current connection.
CREATE TABLE worker_models (
  worker_id     text PRIMARY KEY,
  session_id    text NOT NULL,
  router_id     text NOT NULL,
  engine        text,
  gpu           text,
  vram_mb       integer NOT NULL DEFAULT 0,
  vram_free_mb  integer NOT NULL DEFAULT 0,
  models        text[] NOT NULL DEFAULT '{}',
  seen_at       timestamptz NOT NULL
);

CREATE INDEX worker_models_by_model ON worker_models USING gin (models);
