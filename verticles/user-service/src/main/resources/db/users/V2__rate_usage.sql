-- Requests per client IP and password logins per account, counted across user-service replicas
-- (platform SharedRateLimiter, keys "ip:<address>" and "login:<email>"): each replica adds its own
-- counts to its own rows and sums the others'; rows older than two windows are deleted on the way.
CREATE TABLE rate_usage (
  key          text    NOT NULL,
  window_start bigint  NOT NULL,  -- epoch milliseconds
  replica      text    NOT NULL,
  used         integer NOT NULL,
  PRIMARY KEY (key, window_start, replica)
);
