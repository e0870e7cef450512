package ai.pingvas.payments;

import ai.pingvas.payments.events.ReservationSweeperVerticle;
import ai.pingvas.payments.events.SettlementVerticle;
import ai.pingvas.payments.http.BillingApiVerticle;
import ai.pingvas.payments.http.TierClient;
import ai.pingvas.payments.store.PgBillingStore;
import ai.pingvas.payments.stripe.StripeGateway;
import ai.pingvas.platform.auth.ChainAuthenticator;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.http.Contracts;
import ai.pingvas.platform.kafka.KafkaSettings;
import ai.pingvas.platform.launch.ServiceFoundation;
import ai.pingvas.platform.launch.ServiceMain;
import ai.pingvas.platform.launch.ServiceRuntime;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** payment-service: the credit ledger, reservations for generations, Stripe Checkout and webhooks. */
public final class PaymentService {
  private static final Logger LOG = LoggerFactory.getLogger(PaymentService.class);
  public static final String NAME = "payment-service";
  public static final ServiceMain.Descriptor DESCRIPTOR =
      new ServiceMain.Descriptor(NAME, "/payments-defaults.yaml", "db/payments");

  private PaymentService() {
  }

  public static void main(String[] args) {
    ServiceMain.run(args, DESCRIPTOR, PaymentService::start);
  }

  /** Starts the service in a runtime; completes when it listens. */
  public static Future<Void> start(ServiceRuntime runtime) {
    Vertx vertx = runtime.vertx();
    Config config = runtime.config();
    PaymentSettings settings = PaymentSettings.from(config);
    KafkaSettings kafka = KafkaSettings.fromConfig(config, NAME);
    return ServiceFoundation.prepare(runtime, DESCRIPTOR, "openapi/billing.yaml", kafka,
            List.of(settings.eventsTopic()))
        .compose(foundation -> {
          Contracts.Loaded contract = foundation.contract();
          LOG.atInfo().addKeyValue("mode", settings.allowanceMode() ? "free_allowance" : "stripe")
              .log("billing mode");

          PgBillingStore store = new PgBillingStore(foundation.pool());
          ChainAuthenticator authenticator = ChainAuthenticator.fromConfig(vertx, config);
          StripeGateway stripe = settings.stripe().enabled() ? new StripeGateway(vertx, settings.stripe()) : null;
          TierClient tiers = new TierClient(vertx, settings.usersUrl(), config.optionalString("auth.internal-token"));
          return vertx.deployVerticle(new SettlementVerticle(kafka, settings.eventsTopic(), settings.eventsGroup(),
                  store, runtime.registry()))
              .compose(id -> vertx.deployVerticle(new ReservationSweeperVerticle(store, settings.sweepEvery(),
                  settings.reservationTtl())))
              .compose(id -> vertx.deployVerticle(() -> new BillingApiVerticle(runtime, settings, contract, store,
                  authenticator, stripe, tiers), new DeploymentOptions().setInstances(config.integer("http.instances"))))
              .<Void>mapEmpty();
        });
  }
}
