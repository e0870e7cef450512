package ai.pingvas.users.http;

import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.auth.InternalAuth;
import ai.pingvas.platform.http.TextCheck;
import ai.pingvas.platform.http.Contracts;
import ai.pingvas.platform.http.OpsRoutes;
import ai.pingvas.platform.http.ServerOptions;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.users.UserSettings;
import ai.pingvas.users.domain.PasswordHasher;
import ai.pingvas.users.keys.KeyRing;
import ai.pingvas.users.keys.KeyRotationVerticle;
import ai.pingvas.users.store.SigningKeyStore;
import ai.pingvas.users.store.UserStore;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import java.util.Set;

/** The accounts API (from its OpenAPI contract), the JWK Set and the service-to-service routes. */
public final class UserApiVerticle extends VerticleBase {
  /** Operations anyone may call: signing up, logging in, logging out and fetching the public keys. */
  private static final Set<String> PUBLIC = Set.of("POST /v1/users", "POST /v1/auth/token", "POST /v1/auth/revoke",
      "GET /.well-known/jwks.json");

  private final AuthRateLimits limits;
  private final ServiceRuntime runtime;
  private final UserSettings settings;
  private final Contracts.Loaded contract;
  private final UserStore users;
  private final PasswordHasher hasher;
  private final KeyRing ring;
  private final SigningKeyStore signingKeys;
  private final KeyRotationVerticle rotation;
  private final Authenticator authenticator;
  private HttpServer server;

  public UserApiVerticle(ServiceRuntime runtime, UserSettings settings, Contracts.Loaded contract, UserStore users,
      PasswordHasher hasher, KeyRing ring, SigningKeyStore signingKeys, KeyRotationVerticle rotation,
      Authenticator authenticator, AuthRateLimits limits) {
    this.runtime = runtime;
    this.limits = limits;
    this.settings = settings;
    this.contract = contract;
    this.users = users;
    this.hasher = hasher;
    this.ring = ring;
    this.signingKeys = signingKeys;
    this.rotation = rotation;
    this.authenticator = authenticator;
  }

  @Override
  public Future<?> start() {
    var config = runtime.config();
    TokenHandlers tokens = new TokenHandlers(vertx, settings, users, hasher, ring, limits);
    AccountHandlers accounts = new AccountHandlers(vertx, settings, users, hasher, tokens);
    ApiKeyHandlers apiKeys = new ApiKeyHandlers(users);
    KeyHandlers keys = new KeyHandlers(ring, signingKeys, rotation, settings);
    InternalHandlers internal = new InternalHandlers(users, authenticator, settings);
    InternalAuth internalAuth = InternalAuth.create(config.optionalString("auth.internal-token"));
    AuthHandler auth = AuthHandler.create(authenticator);

    Router router = OpsRoutes.mount(Router.router(vertx), runtime);
    router.get("/openapi.yaml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/yaml")
        .end(contract.text()));
    router.post("/internal/v1/auth/introspect").handler(BodyHandler.create().setBodyLimit(16 * 1024))
        .handler(internalAuth).handler(internal::introspect);
    router.get("/internal/v1/tiers").handler(internalAuth).handler(internal::tiers);
    router.get("/internal/v1/users/:id").handler(internalAuth).handler(internal::user);
    router.put("/internal/v1/users/:id/tier").handler(BodyHandler.create().setBodyLimit(16 * 1024))
        .handler(internalAuth).handler(internal::setTier);

    RouterBuilder api = RouterBuilder.create(vertx, contract.contract(), RequestExtractor.withBodyHandler())
        .rootHandler(BodyHandler.create().setBodyLimit(config.integer("http.body-limit-bytes")))
        .rootHandler(new TextCheck())
        .rootHandler(unlessPublic(auth));
    api.getRoutes().forEach(route -> route.setDoSecurity(false));
    Contracts.route(api, "signUp").addHandler(limits::perIp).addHandler(accounts::signUp);
    Contracts.route(api, "createToken").addHandler(limits::perIp).addHandler(tokens::token);
    Contracts.route(api, "revokeToken").addHandler(limits::perIp).addHandler(tokens::revoke);
    Contracts.route(api, "getJwks").addHandler(keys::jwks);
    Contracts.route(api, "rotateSigningKey").addHandler(AuthHandler.requireAdmin()).addHandler(keys::rotate);
    Contracts.route(api, "retireSigningKey").addHandler(AuthHandler.requireAdmin()).addHandler(keys::retire);
    Contracts.route(api, "getMe").addHandler(accounts::me);
    Contracts.route(api, "getUser").addHandler(accounts::get);
    Contracts.route(api, "updateUser").addHandler(AuthHandler.requireAdmin()).addHandler(accounts::update);
    Contracts.route(api, "listTiers").addHandler(accounts::tiers);
    Contracts.route(api, "listApiKeys").addHandler(apiKeys::list);
    Contracts.route(api, "createApiKey").addHandler(apiKeys::create);
    Contracts.route(api, "revokeApiKey").addHandler(apiKeys::revoke);
    router.route("/*").subRouter(api.createRouter());
    OpsRoutes.notFound(router);

    server = vertx.createHttpServer(ServerOptions.defaults());
    return server.requestHandler(router).listen(config.integer("http.port"), config.string("http.host"));
  }

  private static Handler<RoutingContext> unlessPublic(AuthHandler auth) {
    return ctx -> {
      HttpMethod method = ctx.request().method();
      if (PUBLIC.contains(method.name() + " " + ctx.request().path())) {
        ctx.next();
      } else {
        auth.handle(ctx);
      }
    };
  }

  @Override
  public Future<?> stop() {
    return runtime.shutdown(server);
  }
}
