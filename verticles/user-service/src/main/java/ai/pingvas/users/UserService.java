package ai.pingvas.users;

import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.auth.ChainAuthenticator;
import ai.pingvas.platform.auth.JwtAuthenticator;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.Host;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.http.Contracts;
import ai.pingvas.platform.launch.ServiceFoundation;
import ai.pingvas.platform.launch.ServiceMain;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.platform.ratelimit.SharedRateLimiter;
import ai.pingvas.users.http.AuthRateLimits;
import ai.pingvas.users.domain.PasswordHasher;
import ai.pingvas.users.domain.Secrets;
import ai.pingvas.users.http.UserApiVerticle;
import ai.pingvas.users.keys.KeyCipher;
import ai.pingvas.users.keys.KeyRing;
import ai.pingvas.users.keys.KeyRotationVerticle;
import ai.pingvas.users.store.PgSigningKeyStore;
import ai.pingvas.users.store.PgUserStore;
import ai.pingvas.users.store.UserStore;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** user-service: accounts, passwords, access tokens and their keys, API keys, tiers. */
public final class UserService {
  private static final Logger LOG = LoggerFactory.getLogger(UserService.class);
  public static final String NAME = "user-service";
  public static final ServiceMain.Descriptor DESCRIPTOR =
      new ServiceMain.Descriptor(NAME, "/users-defaults.yaml", "db/users");

  private UserService() {
  }

  public static void main(String[] args) {
    ServiceMain.run(args, DESCRIPTOR, UserService::start);
  }

  /** Starts the service in a runtime; completes when it listens. */
  public static Future<Void> start(ServiceRuntime runtime) {
    Vertx vertx = runtime.vertx();
    Config config = runtime.config();
    UserSettings settings = UserSettings.from(config);
    KeyCipher cipher = new KeyCipher(settings.keySecret());
    return ServiceFoundation.prepare(runtime, DESCRIPTOR, "openapi/users.yaml").compose(foundation -> {
      Pool pool = foundation.pool();
      Contracts.Loaded contract = foundation.contract();

      Clock clock = Clock.systemUTC();
      UserStore users = new PgUserStore(pool);
      PgSigningKeyStore signingKeys = new PgSigningKeyStore(pool, cipher, clock);
      KeyRing ring = new KeyRing(vertx, settings.keyPolicy(), settings.issuer(), settings.audience(),
          settings.accessTtl(), clock);
      // This service verifies tokens with its own ring (no HTTP round trip) and API keys in its own tables.
      Authenticator tokens = new JwtAuthenticator(vertx, ring::publishedKeys, settings.issuer(), settings.audience(),
          Duration.ofSeconds(1));
      Authenticator apiKeys = credential -> users.principalForApiKey(Secrets.sha256(credential))
          .compose(p -> p != null ? Future.succeededFuture(p)
              : Future.failedFuture(ApiException.unauthorized("unknown or revoked API key")));
      Authenticator authenticator = new ChainAuthenticator(tokens, apiKeys);
      PasswordHasher hasher = new PasswordHasher(settings.argon2MemoryKib(), settings.argon2Iterations(),
          settings.argon2Parallelism());
      KeyRotationVerticle rotation = new KeyRotationVerticle(signingKeys, ring, settings.keyPolicy(),
          settings.keyReloadEvery(), foundation.database().connectOptions());
      // brute-force brakes counted across replicas (each syncs its counts through Postgres), one of
      // each for all API verticles
      String replica = Host.replicaId(null, "users");
      SharedRateLimiter perIp = new SharedRateLimiter(pool, "ip", replica, Duration.ofMinutes(1), 100_000);
      SharedRateLimiter logins = new SharedRateLimiter(pool, "login", replica, settings.loginWindow(), 100_000);
      AuthRateLimits limits = new AuthRateLimits(settings, perIp, logins);

      return vertx.deployVerticle(rotation)
          .compose(id -> vertx.deployVerticle(SharedRateLimiter.syncing(config.duration("ratelimit.sync-interval"),
              perIp, logins)))
          .compose(id -> seedDevUser(config, users))
          .compose(v -> vertx.deployVerticle(() -> new UserApiVerticle(runtime, settings, contract, users, hasher,
              ring, signingKeys, rotation, authenticator, limits),
              new DeploymentOptions().setInstances(config.integer("http.instances"))))
          .<Void>mapEmpty();
    });
  }

  private static Future<Void> seedDevUser(Config config, UserStore users) {
    String key = config.optionalString("dev.seed-key");
    if (!config.bool("dev.seed-user") || key == null) {
      return Future.succeededFuture();
    }
    return users.seed(UserSettings.DEV_USER_ID, config.string("dev.seed-email"), "studio", Set.of("admin"))
        .compose(user -> users.ensureApiKey(user.id(), "dev", Secrets.sha256(key), Secrets.displayPrefix(key)))
        .onSuccess(v -> LOG.info("dev user {} is ready", UserSettings.DEV_USER_ID));
  }
}
