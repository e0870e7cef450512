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
 * (and payment-service's sweeper releases it anyway after the job's longest life). A reservation
 * left unanswered (timeout, 5xx) is released too: payment-service then voids the job, so a
 * reservation that commits after the router gave up holds nothing.
 * Capture and release of stored jobs follow from their events on Kafka, not from here.
 */
public final class CreditReservationCheck implements SubmitCheck {
  private static final Logger LOG = LoggerFactory.getLogger(CreditReservationCheck.class);
  private static final int RELEASE_ATTEMPTS = 5;
  private final Vertx vertx;
  private final WebClient client;
  private final String billingUrl;
  private final String internalToken;

  public CreditReservationCheck(Vertx vertx, String billingUrl, String internalToken) {
    this.vertx = vertx;
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
        .recover(err -> {
          // the reservation may still commit (it may be waiting for the user's balance lock):
          // release it, which voids the job if it is not held yet, so it never holds credits
          LOG.atWarn().addKeyValue("job_id", job.id()).addKeyValue("error", err.toString())
              .log("credit reservation unanswered; releasing it");
          release(job.id());
          return Future.failedFuture(unavailable());
        })
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
              .log("credit reservation refused unexpectedly; releasing it");
          if (response.statusCode() >= 500) {
            release(job.id()); // a 5xx may come after the hold committed (e.g. a proxy's timeout)
          }
          return Future.failedFuture(unavailable());
        });
  }

  private void release(String jobId) {
    release(jobId, 1);
  }

  /** Releases, retrying a failed call (1, 2, 4, 8 s apart) before leaving the hold to the sweeper. */
  private void release(String jobId, int attempt) {
    client.postAbs(billingUrl + "/internal/v1/reservations/" + jobId + "/release")
        .putHeader(InternalAuth.HEADER, internalToken).timeout(5_000).send()
        .onComplete(ar -> {
          if (ar.succeeded() && ar.result().statusCode() == 200) {
            return;
          }
          String failure = ar.failed() ? ar.cause().toString() : "status " + ar.result().statusCode();
          if (attempt < RELEASE_ATTEMPTS && (ar.failed() || ar.result().statusCode() >= 500)) {
            vertx.setTimer(1_000L << (attempt - 1), t -> release(jobId, attempt + 1));
            return;
          }
          LOG.atWarn().addKeyValue("job_id", jobId).addKeyValue("error", failure)
              .log("credit release failed; the sweeper will release it");
        });
  }

  private static ApiException unavailable() {
    return ApiException.unavailable("billing_unavailable", "credits cannot be checked right now; nothing was stored",
        2);
  }
}
