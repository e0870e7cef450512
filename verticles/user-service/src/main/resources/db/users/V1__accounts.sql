-- Accounts, their credentials and the token signing keys.

CREATE TABLE users (
  id             uuid PRIMARY KEY,
  email          text NOT NULL,
  name           text,
  password_hash  text,                      -- Argon2id PHC string; null = no password login (seeded users)
  tier           text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'studio')),
  roles          text[] NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name          text NOT NULL,
  key_hash      bytea NOT NULL UNIQUE,      -- SHA-256 of the key (256 random bits); the key is shown once
  prefix        text NOT NULL,              -- first characters, to recognise a key in lists
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at DESC);

-- Refresh tokens are single use: each refresh consumes one and issues the next of the same family.
-- Presenting a consumed token again revokes the whole family (a stolen token was replayed).
CREATE TABLE refresh_tokens (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family       uuid NOT NULL,
  token_hash   bytea NOT NULL UNIQUE,
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

-- ES256 signing keys. A key is published in the JWK Set from creation, signs from signs_from on,
-- and stays published until tokens it signed have expired (see KeyPolicy).
CREATE TABLE signing_keys (
  kid          text PRIMARY KEY,
  public_jwk   jsonb NOT NULL,
  private_key  bytea NOT NULL,              -- AES-GCM(nonce || ciphertext) of the PKCS#8 private key
  created_at   timestamptz NOT NULL DEFAULT now(),
  signs_from   timestamptz NOT NULL
);
