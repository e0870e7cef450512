package ai.pingvas.users.store;

import ai.pingvas.platform.auth.Principal;
import ai.pingvas.users.domain.ApiKey;
import ai.pingvas.users.domain.User;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/** Accounts, API keys and refresh tokens. Secrets are passed in hashed; nothing here sees them in clear. */
public interface UserStore {
  /**
   * Creates an account with its first refresh token, in one transaction with {@code accessToken}
   * (called with the new account; if it throws, nothing is stored): a sign-up either gives its tokens
   * or leaves no account behind, so its retry is not a 409. Fails with 409 {@code email_taken} if the
   * e-mail (case-insensitive) is in use.
   */
  Future<Granted> create(String email, String name, String passwordHash, RefreshGrant first,
      Function<User, String> accessToken);

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

  /** A refresh token to store: the hash of its secret, its family (one login) and its expiry. */
  record RefreshGrant(byte[] hash, String family, Instant expiresAt) {
  }

  /** What a write that granted tokens gives: the account and its access token; no account = refused. */
  record Granted(User user, String accessToken) {
    static final Granted REFUSED = new Granted(null, null);

    public boolean refused() {
      return user == null;
    }
  }

  /** Stores the first refresh token of a new family (a login). */
  Future<Void> saveRefreshToken(String userId, RefreshGrant grant);

  /**
   * Rotates a refresh token in one transaction: the presented one is used up (valid once, before it
   * expires), {@code accessToken} is called with its account and the next token ({@code nextHash},
   * same family) is stored; if anything fails, the presented token stays unused, so the client can
   * retry with it. A token presented again instead revokes its whole family (someone replayed a
   * stolen token); that revocation commits although the answer is {@link Granted#REFUSED}.
   *
   * <p>Everything that adds a token to a family or revokes it holds the family's lock until it
   * commits, so a replay or a logout racing a rotation also revokes the token that rotation adds.
   */
  Future<Granted> rotateRefreshToken(byte[] presented, byte[] nextHash, Instant nextExpiresAt,
      Function<User, String> accessToken);

  /** Revokes the family of a refresh token (logout), under the family's lock (see {@link #rotateRefreshToken}). */
  Future<Void> revokeRefreshFamily(byte[] tokenHash);
}
