-- The outbox's NOTIFY trigger goes: the router wakes its relay itself after each commit that wrote
-- outbox rows (in process on the relaying replica, by a NOTIFY of its own from any other; see
-- OutboxRelayVerticle). A transaction that notifies takes one database-wide lock at commit and holds
-- it through its WAL flush, so with the trigger on every outbox insert the router's job writes
-- committed one at a time, none sharing an fsync with another. During a rolling upgrade the rows that
-- replicas of the previous version write are found by the relay's poll (every 200 ms).
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION outbox_notify();
