-- Thumbnails are made once at ingest and stored beside the image; their bytes count towards the quota.
ALTER TABLE images ADD COLUMN thumbnail_key text;
ALTER TABLE images ADD COLUMN thumbnail_bytes bigint NOT NULL DEFAULT 0;
