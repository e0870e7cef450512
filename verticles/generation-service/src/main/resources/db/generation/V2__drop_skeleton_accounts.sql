-- Accounts and API keys moved to user-service (schema users); the router keeps only jobs.
DROP TABLE api_keys;
DROP TABLE users;
