package ai.pingvas.users.store;

import ai.pingvas.users.domain.KeyPolicy;
import ai.pingvas.users.domain.SigningKey;
import io.vertx.core.Future;
import java.util.List;

/** The token signing keys, shared by every replica through Postgres. */
public interface SigningKeyStore {
  /** Every key, private parts decrypted. */
  Future<List<SigningKey>> list();

  /** Makes a new key when the policy says rotation is due (or {@code force}); returns its kid, or null. */
  Future<String> rotate(KeyPolicy policy, boolean force);
}
