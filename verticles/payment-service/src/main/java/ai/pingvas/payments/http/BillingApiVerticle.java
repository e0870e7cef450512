package ai.pingvas.payments.http;

import ai.pingvas.payments.PaymentSettings;
import ai.pingvas.payments.store.BillingStore;
import ai.pingvas.payments.stripe.StripeGateway;
import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.auth.InternalAuth;
import ai.pingvas.platform.http.TextCheck;
import ai.pingvas.platform.http.Contracts;
import ai.pingvas.platform.http.OpsRoutes;
import ai.pingvas.platform.http.ServerOptions;
import ai.pingvas.platform.launch.ServiceRuntime;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;

/** The billing API (from its OpenAPI contract), the Stripe webhook and the router's reservation routes. */
public final class BillingApiVerticle extends VerticleBase {
  private final ServiceRuntime runtime;
  private final PaymentSettings settings;
  private final Contracts.Loaded contract;
  private final BillingStore store;
  private final Authenticator authenticator;
  private final StripeGateway stripe;
  private final TierClient tiers;
  private HttpServer server;

  public BillingApiVerticle(ServiceRuntime runtime, PaymentSettings settings, Contracts.Loaded contract,
      BillingStore store, Authenticator authenticator, StripeGateway stripe, TierClient tiers) {
    this.runtime = runtime;
    this.settings = settings;
    this.contract = contract;
    this.store = store;
    this.authenticator = authenticator;
    this.stripe = stripe;
    this.tiers = tiers;
  }

  @Override
  public Future<?> start() {
    var config = runtime.config();
    BillingHandlers billing = new BillingHandlers(settings, store, stripe);
    ReservationHandlers reservations = new ReservationHandlers(settings, store);
    StripeWebhookHandler webhook = new StripeWebhookHandler(settings.stripe(), store, tiers);
    InternalAuth internal = InternalAuth.create(config.optionalString("auth.internal-token"));

    Router router = OpsRoutes.mount(Router.router(vertx), runtime);
    router.get("/openapi.yaml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/yaml")
        .end(contract.text()));
    // Authenticated by Stripe's signature over the raw body, so it bypasses bearer auth and JSON parsing.
    router.post("/v1/billing/stripe/webhook").handler(BodyHandler.create().setBodyLimit(512 * 1024))
        .handler(webhook);
    router.post("/internal/v1/reservations").handler(BodyHandler.create().setBodyLimit(16 * 1024))
        .handler(internal).handler(reservations::reserve);
    router.post("/internal/v1/reservations/:jobId/release").handler(internal).handler(reservations::release);

    RouterBuilder api = RouterBuilder.create(vertx, contract.contract(), RequestExtractor.withBodyHandler())
        .rootHandler(BodyHandler.create().setBodyLimit(config.integer("http.body-limit-bytes")))
        .rootHandler(AuthHandler.create(authenticator))
        .rootHandler(new TextCheck());
    api.getRoutes().forEach(route -> route.setDoSecurity(false));
    Contracts.route(api, "getBalance").addHandler(billing::balance);
    Contracts.route(api, "listLedger").addHandler(billing::ledger);
    Contracts.route(api, "createCheckout").addHandler(billing::checkout);
    Contracts.route(api, "reconcile").addHandler(AuthHandler.requireAdmin()).addHandler(billing::reconcile);
    Contracts.route(api, "createAdjustment").addHandler(AuthHandler.requireAdmin()).addHandler(billing::adjust);
    router.route("/*").subRouter(api.createRouter());
    OpsRoutes.notFound(router);

    server = vertx.createHttpServer(ServerOptions.defaults());
    return server.requestHandler(router).listen(config.integer("http.port"), config.string("http.host"));
  }

  @Override
  public Future<?> stop() {
    return runtime.shutdown(server);
  }
}
