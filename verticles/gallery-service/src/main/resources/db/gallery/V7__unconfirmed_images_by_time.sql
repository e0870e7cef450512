-- Rows written at verification that no job.succeeded confirmed (nor a cleanup removed) within
-- images.confirm-after are settled by a sweep, the oldest first: it finds them through this index.
CREATE INDEX images_unconfirmed ON images (created_at) WHERE NOT confirmed;
