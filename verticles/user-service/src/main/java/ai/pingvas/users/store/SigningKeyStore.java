package ai.pingvas.users.store;

import ai.pingvas.users.domain.KeyPolicy;
import ai.pingvas.users.domain.SigningKey;
import io.vertx.core.Future;
import java.util.List;

/** The token signing keys, shared by every replica through Postgres. */
public interface SigningKeyStore {
  /**
   * The Postgres channel a change of the ring (a key made or retired) is notified on, when it
   * commits: replicas reload at once instead of at their next periodic reload.
   */
  String CHANGES_CHANNEL = "pingvas_signing_keys";

  /** Every key, private parts decrypted. */
  Future<List<SigningKey>> list();

  /** Makes a new key when the policy says rotation is due (or {@code force}); returns its kid, or null. */
  Future<String> rotate(KeyPolicy policy, boolean force);

  /** What {@link #retire} did. */
  enum Retirement { RETIRED, UNKNOWN, SIGNING }

  /**
   * Deletes a key at once (a compromised one): tokens it signed stop verifying. The key that signs now
   * is refused ({@link Retirement#SIGNING}): rotate first and retire it once its successor signs.
   */
  Future<Retirement> retire(KeyPolicy policy, String kid);
}
