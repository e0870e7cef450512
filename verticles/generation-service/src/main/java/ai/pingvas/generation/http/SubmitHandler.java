package ai.pingvas.generation.http;

import ai.pingvas.generation.dispatch.DispatchMessages.Admission;
import ai.pingvas.generation.dispatch.DispatchMessages.Admit;
import ai.pingvas.generation.dispatch.DispatchMessages.Enqueued;
import ai.pingvas.generation.dispatch.DispatchMessages.Placed;
import ai.pingvas.generation.dispatch.DispatchMessages.Places;
import ai.pingvas.generation.dispatch.DispatchMessages.Release;
import ai.pingvas.generation.dispatch.DispatcherVerticle;
import ai.pingvas.generation.domain.Job;
import ai.pingvas.generation.domain.JobParams;
import ai.pingvas.generation.domain.QueuedJob;
import ai.pingvas.generation.events.PositionBoard;
import ai.pingvas.generation.store.Claimed;
import ai.pingvas.generation.store.JobStore;
import ai.pingvas.generation.store.NewJob;
import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.db.GroupCommit;
import ai.pingvas.platform.db.TimeOrderedIds;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.http.BodyValidation;
import ai.pingvas.platform.http.Probes;
import ai.pingvas.protocol.LoraRef;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code POST /v1/generations}: the body was validated against the OpenAPI schema before this
 * runs. A job is acknowledged only once committed; an {@code Idempotency-Key} with the same body
 * returns the original job, with another body 409.
 */
final class SubmitHandler implements Handler<RoutingContext> {
  private final Vertx vertx;
  private final JobStore store;
  private final GroupCommit<NewJob, JobStore.Inserted> batcher;
  private final Probes probes;
  private final int maxAttempts;
  private final String publicUrl;
  private final long retryAfterSeconds;
  private final List<SubmitCheck> checks;
  private final String routerId;

  SubmitHandler(Vertx vertx, JobStore store, GroupCommit<NewJob, JobStore.Inserted> batcher, Probes probes, int maxAttempts,
      String publicUrl, long retryAfterSeconds, List<SubmitCheck> checks, String routerId) {
    this.vertx = vertx;
    this.store = store;
    this.batcher = batcher;
    this.probes = probes;
    this.maxAttempts = maxAttempts;
    this.publicUrl = publicUrl;
    this.retryAfterSeconds = retryAfterSeconds;
    this.checks = List.copyOf(checks);
    this.routerId = routerId;
  }

  private record Accepted(Job job, PositionBoard.Place place, boolean replayed) {
  }

  @Override
  public void handle(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    if (!probes.ready()) {
      ctx.fail(ApiException.unavailable("not_ready", "the service cannot accept jobs right now "
          + "(a dependency is down); nothing was stored", retryAfterSeconds));
      return;
    }
    JsonObject body = BodyValidation.body(ctx);
    JobParams params = toParams(body);
    String key = ctx.request().getHeader("Idempotency-Key");
    if (key != null && (key.isEmpty() || key.length() > 255)) {
      ctx.fail(ApiException.validation("Idempotency-Key: must be 1 to 255 characters", null));
      return;
    }
    // the body's hash only matters to a replay of the same key (~3 % of the submit path's CPU otherwise)
    NewJob job = new NewJob(TimeOrderedIds.next().toString(), principal.userId(), principal.tier(), params, key,
        key == null ? null : hash(body), maxAttempts);
    Future<Accepted> accepted = key == null ? fresh(principal, job) : idempotent(principal, job);
    accepted.onSuccess(a -> ctx.response().setStatusCode(202)
            .putHeader("Content-Type", "application/json")
            .putHeader("Location", "/v1/generations/" + a.job().id())
            .putHeader("Idempotent-Replayed", Boolean.toString(a.replayed()))
            .end(JobView.of(a.job(), a.place(), publicUrl).encode()))
        .onFailure(ctx::fail);
  }

  private Future<Accepted> idempotent(Principal principal, NewJob job) {
    return store.findByIdempotencyKey(job.userId(), job.idempotencyKey()).compose(existing -> existing != null
        ? replay(existing, job) : fresh(principal, job).recover(err -> err instanceof KeyTaken
            ? store.findByIdempotencyKey(job.userId(), job.idempotencyKey()).compose(e -> replay(e, job))
            : Future.failedFuture(err)));
  }

  private Future<Accepted> replay(Job existing, NewJob job) {
    return store.requestHash(existing.id()).compose(storedHash -> {
      if (storedHash == null || !MessageDigest.isEqual(storedHash, job.requestHash())) {
        return Future.failedFuture(ApiException.conflict("idempotency_key_reused",
            "this Idempotency-Key was already used with a different request body"));
      }
      return locate(existing).map(place -> new Accepted(existing, place, true));
    });
  }

  private Future<Accepted> fresh(Principal principal, NewJob job) {
    return runChecks(principal, job, 0, new ArrayList<>()).compose(undo -> admitAndStore(job).onFailure(err ->
        undo.forEach(Runnable::run)));
  }

  /** Runs the submit checks in order; on a refusal, undoes what the earlier ones reserved. */
  private Future<List<Runnable>> runChecks(Principal principal, NewJob job, int index, List<Runnable> undo) {
    if (index == checks.size()) {
      return Future.succeededFuture(undo);
    }
    return checks.get(index).check(principal, job)
        .onFailure(err -> undo.forEach(Runnable::run))
        .compose(action -> {
          undo.add(action);
          return runChecks(principal, job, index + 1, undo);
        });
  }

  private Future<Accepted> admitAndStore(NewJob job) {
    Admit admit = new Admit(job.userId(), job.tier(), 1, candidate(job));
    return vertx.eventBus().<Admission>request(DispatcherVerticle.ADMIT, admit).compose(reply -> {
      Admission admission = reply.body();
      if (!admission.admitted()) {
        return Future.failedFuture(ApiException.tooManyRequests(admission.code(), admission.reason(),
            admission.retryAfterSeconds()));
      }
      String worker = admission.workerId();
      // placed at admission: stored already dispatched, in this one commit, then handed to the worker
      NewJob toStore = worker == null ? job : job.placedOn(worker, routerId);
      return batcher.submit(toStore).compose(inserted -> {
        if (!inserted.created()) {
          unreserve(job, worker);
          return Future.failedFuture(new KeyTaken());
        }
        Job stored = inserted.job();
        if (worker != null) {
          vertx.eventBus().send(DispatcherVerticle.PLACED, new Placed(stored.id(), Claimed.of(stored)));
          return Future.succeededFuture(new Accepted(stored, null, false));
        }
        Enqueued enqueued = new Enqueued(job.userId(), 1, List.of(queued(stored)));
        return vertx.eventBus().<Places>request(DispatcherVerticle.ENQUEUED, enqueued)
            .map(places -> new Accepted(stored, places.body().places().get(stored.id()), false))
            .otherwise(err -> new Accepted(stored, null, false));
      }, err -> {
        unreserve(job, worker);
        return Future.failedFuture(ApiException.unavailable("store_unavailable",
            "the job could not be stored; nothing was accepted", retryAfterSeconds));
      });
    });
  }

  /** Nothing was stored: give back the admission, or the worker slot the job was placed on. */
  private void unreserve(NewJob job, String worker) {
    if (worker != null) {
      vertx.eventBus().send(DispatcherVerticle.PLACED, new Placed(job.id(), null));
    } else {
      vertx.eventBus().send(DispatcherVerticle.RELEASE, new Release(job.userId(), 1));
    }
  }

  /** The job as the dispatcher would queue it now, for a placement at admission. */
  private static QueuedJob candidate(NewJob job) {
    long now = System.currentTimeMillis();
    return queued(job.id(), job.userId(), job.tier(), job.params(), now, now);
  }

  private Future<PositionBoard.Place> locate(Job job) {
    if (!job.status().wire().equals("queued")) {
      return Future.succeededFuture(null);
    }
    return vertx.eventBus().<PositionBoard.Place>request(DispatcherVerticle.LOCATE,
        new ai.pingvas.generation.dispatch.DispatchMessages.Locate(job.id())).map(m -> m.body())
        .otherwise((PositionBoard.Place) null);
  }

  static QueuedJob queued(Job job) {
    return queued(job.id(), job.userId(), job.tier(), job.params(), job.queuedAt().toEpochMilli(),
        job.createdAt().toEpochMilli());
  }

  private static QueuedJob queued(String id, String userId, String tier, JobParams p, long queuedAtMs,
      long createdAtMs) {
    return new QueuedJob(id, userId, tier, p.model(), p.loras().stream().map(LoraRef::name).toList(), p.priority(),
        queuedAtMs, 0, p.steps(), p.count(), createdAtMs);
  }

  /** Fills the defaults the schema documents and picks a seed when none was given. */
  static JobParams toParams(JsonObject body) {
    List<LoraRef> loras = new ArrayList<>();
    JsonArray loraJson = body.getJsonArray("loras", new JsonArray());
    for (int i = 0; i < loraJson.size(); i++) {
      JsonObject l = loraJson.getJsonObject(i);
      loras.add(new LoraRef(l.getString("name"), l.getNumber("weight").doubleValue()));
    }
    Number seed = body.getNumber("seed");
    return new JobParams(body.getString("model"), body.getString("prompt"), body.getString("negative_prompt"),
        body.getInteger("width", 512), body.getInteger("height", 512), body.getInteger("steps", 30),
        body.getNumber("cfg_scale", 7).doubleValue(),
        seed != null ? seed.longValue() : ThreadLocalRandom.current().nextLong(0, 4_294_967_296L),
        body.getString("scheduler", "euler"), List.copyOf(loras), body.getInteger("count", 1),
        body.getInteger("priority", 0));
  }

  /** SHA-256 of the body in canonical form (keys sorted), so key order does not matter. */
  static byte[] hash(JsonObject body) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(canonical(body).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static String canonical(Object value) {
    if (value instanceof JsonObject object) {
      Map<String, Object> sorted = new TreeMap<>(object.getMap());
      StringBuilder out = new StringBuilder("{");
      sorted.forEach((k, v) -> out.append(canonical(k)).append(':')
          .append(canonical(v instanceof Map ? new JsonObject((Map<String, Object>) v) : v)).append(','));
      return out.append('}').toString();
    }
    if (value instanceof JsonArray array) {
      StringBuilder out = new StringBuilder("[");
      array.forEach(v -> out.append(canonical(v)).append(','));
      return out.append(']').toString();
    }
    if (value instanceof List<?> list) {
      return canonical(new JsonArray((List<Object>) list));
    }
    if (value instanceof Number number) {
      double d = number.doubleValue();
      return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
    if (value == null) {
      return "null";
    }
    String single = new JsonArray().add(value).encode();
    return single.substring(1, single.length() - 1);
  }

  /** The idempotency key was taken by a concurrent request: look the job up again. */
  private static final class KeyTaken extends RuntimeException {
    KeyTaken() {
      super("idempotency key taken concurrently", null, false, false);
    }
  }
}
