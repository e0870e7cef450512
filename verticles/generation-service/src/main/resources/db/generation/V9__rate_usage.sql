-- Submissions per user and minute for the tier's requests_per_minute, counted across router
-- replicas (platform SharedRateLimiter): each replica adds its own counts to its own rows and sums
-- the others'; rows older than two windows are deleted by whichever replica syncs next.
CREATE TABLE rate_usage (
  key          text    NOT NULL,
  window_start bigint  NOT NULL,  -- epoch milliseconds
  replica      text    NOT NULL,
  used         integer NOT NULL,
  PRIMARY KEY (key, window_start, replica)
);
