-- Tombstones are purged once no replay of their job's event can come (images.tombstone-ttl): the
-- sweep finds the oldest by time.
CREATE INDEX deleted_images_by_time ON deleted_images (deleted_at);
