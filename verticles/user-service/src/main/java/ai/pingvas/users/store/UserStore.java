package ai.pingvas.users.store;

import ai.pingvas.platform.auth.Principal;
import ai.pingvas.users.domain.ApiKey;
import ai.pingvas.users.domain.User;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/** Accounts, API keys and refresh tokens. Secrets are passed in hashed; nothing here sees them in clear. */
public interface UserStore {
  /** Creates an account; fails with 409 {@code email_taken} if the e-mail (case-insensitive) is in use. */
  Future<User> create(String email, String name, String passwordHash);

  Future<User> byEmail(String email);

  Future<User> byId(String id);

  /** Changes tier and/or roles (null = unchanged); null when there is no such user. */
  Future<User> update(String id, String tier, Set<String> roles);

  /** Creates or updates a user with a fixed id and no password (dev seed). */
  Future<User> seed(String id, String email, String tier, Set<String> roles);

  /** Active API keys an account may hold; a revoked key makes room for another. */
  int MAX_ACTIVE_KEYS = 100;
  /** Keys a listing shows: the active ones, then the most recently revoked. */
  int LIST_LIMIT = 200;

  /** A new key, or null if the account (or its owner) is at {@link #MAX_ACTIVE_KEYS} active keys or gone. */
  Future<ApiKey> createApiKey(String userId, String name, byte[] keyHash, String prefix);

  /** Adds a known key if it is not there yet (dev seed; the key survives restarts). */
  Future<Void> ensureApiKey(String userId, String name, byte[] keyHash, String prefix);

  Future<List<ApiKey>> apiKeys(String userId);

  /** Revokes one of the user's keys; false if the user has no such key. */
  Future<Boolean> revokeApiKey(String userId, String keyId);

  /** The principal of an unrevoked key, or null. */
  Future<Principal> principalForApiKey(byte[] keyHash);

  Future<Void> saveRefreshToken(String userId, String family, byte[] tokenHash, Instant expiresAt);

  /** Outcome of presenting a refresh token. */
  record RefreshUse(String userId, String family, boolean valid) {
  }

  /**
   * Consumes a refresh token: valid once, before it expires. A token presented again revokes its
   * whole family (someone replayed a stolen token); the revocation commits even though the answer is no.
   */
  Future<RefreshUse> useRefreshToken(byte[] tokenHash);

  /** Revokes the family of a refresh token (logout). */
  Future<Void> revokeRefreshFamily(byte[] tokenHash);
}
