package ai.pingvas.generation.billing;

import ai.pingvas.generation.domain.JobParams;
import ai.pingvas.generation.http.SubmitCheck;
import ai.pingvas.generation.store.NewJob;
import ai.pingvas.platform.auth.InternalAuth;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds a submission's price with payment-service before the job is stored: a short balance is
 * 402 {@code insufficient_credits}. If the job is not stored after all, the undo releases the hold
 * (and payment-service's sweeper releases it anyway after queue.ttl + execution.timeout).
 * Capture and release of stored jobs follow from their events on Kafka, not from here.
 */
public final class CreditReservationCheck implements SubmitCheck {
  private static final Logger LOG = LoggerFactory.getLogger(CreditReservationCheck.class);
  private final WebClient client;
  private final String billingUrl;
  private final String internalToken;

  public CreditReservationCheck(Vertx vertx, String billingUrl, String internalToken) {
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(2_000).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(32));
    this.billingUrl = billingUrl;
    this.internalToken = internalToken == null ? "" : internalToken;
  }

  @Override
  public Future<Runnable> check(Principal principal, NewJob job) {
    JobParams p = job.params();
    JsonObject request = new JsonObject().put("job_id", job.id()).put("user_id", principal.userId())
        .put("tier", principal.tier()).put("model", p.model()).put("width", p.width()).put("height", p.height())
        .put("steps", p.steps()).put("count", p.count());
    return client.postAbs(billingUrl + "/internal/v1/reservations").putHeader(InternalAuth.HEADER, internalToken)
        .timeout(5_000).sendJsonObject(request)
        .recover(err -> Future.failedFuture(unavailable()))
        .compose(response -> {
          if (response.statusCode() == 201) {
            return Future.succeededFuture(() -> release(job.id()));
          }
          if (response.statusCode() == 402) {
            JsonObject problem = response.bodyAsJsonObject();
            return Future.failedFuture(ApiException.of(402, "insufficient_credits", "Payment required",
                problem == null ? "not enough credits for this generation" : problem.getString("detail")));
          }
          LOG.atWarn().addKeyValue("job_id", job.id()).addKeyValue("status", response.statusCode())
              .log("credit reservation refused unexpectedly");
          return Future.failedFuture(unavailable());
        });
  }

  private void release(String jobId) {
    client.postAbs(billingUrl + "/internal/v1/reservations/" + jobId + "/release")
        .putHeader(InternalAuth.HEADER, internalToken).timeout(5_000).send()
        .onComplete(ar -> {
          if (ar.failed() || ar.result().statusCode() != 200) {
            LOG.atWarn().addKeyValue("job_id", jobId).log("credit release failed; the sweeper will release it");
          }
        });
  }

  private static ApiException unavailable() {
    return ApiException.unavailable("billing_unavailable", "credits cannot be checked right now; nothing was stored",
        2);
  }
}
