package ai.pingvas.generation.http;

import ai.pingvas.generation.dispatch.DispatchMessages.Canceled;
import ai.pingvas.generation.dispatch.DispatchMessages.DrainWorker;
import ai.pingvas.generation.dispatch.DispatcherVerticle;
import ai.pingvas.generation.domain.Job;
import ai.pingvas.generation.store.JobStore;
import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.InternalAuth;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.ids.Uuids;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * Operator endpoints (admin role): the fleet and queue at a glance, and the actions an on-call
 * engineer needs — drain a worker, cancel any job, re-queue failed jobs. Every replica knows the
 * whole queue but only its own workers, so the worker list and drains fan out to the live replicas
 * through their internal endpoints.
 */
final class AdminHandlers {
  private static final int MAX_REQUEUE = 1_000;

  private final Vertx vertx;
  private final JobStore store;
  private final WebClient client;
  private final String internalToken;
  private final String routerId;
  private final String publicUrl;
  private final int maxAttempts;

  AdminHandlers(Vertx vertx, JobStore store, String internalToken, String routerId, String publicUrl,
      int maxAttempts) {
    this.vertx = vertx;
    this.store = store;
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(1_000).setKeepAlive(true));
    this.internalToken = internalToken == null ? "" : internalToken;
    this.routerId = routerId;
    this.publicUrl = publicUrl;
    this.maxAttempts = maxAttempts;
  }

  /** GET /internal/v1/fleet: this replica's snapshot. */
  void localFleet(RoutingContext ctx) {
    snapshot().onSuccess(json -> ok(ctx, json)).onFailure(ctx::fail);
  }

  /** POST /internal/v1/workers/{id}/drain: drains a worker if it is connected here. */
  void localDrain(RoutingContext ctx) {
    String workerId = ctx.pathParam("id");
    vertx.eventBus().<Boolean>request(DispatcherVerticle.DRAIN, new DrainWorker(workerId, "operator request"))
        .onSuccess(reply -> {
          if (reply.body()) {
            ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("worker_id", workerId).put("router_id", routerId).encode());
          } else {
            ctx.fail(ApiException.notFound("worker " + workerId + " is not connected to " + routerId));
          }
        }).onFailure(ctx::fail);
  }

  /** GET /v1/admin/overview */
  void overview(RoutingContext ctx) {
    Future<JsonObject> local = snapshot();
    Future<List<JsonObject>> replicas = store.liveRouters().compose(live -> {
      List<Future<JsonObject>> calls = new ArrayList<>();
      for (JobStore.Replica replica : live) {
        if (replica.id().equals(routerId)) {
          continue;
        }
        calls.add(remoteFleet(replica));
      }
      return Future.join(calls).map(all -> {
        List<JsonObject> out = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
          out.add(calls.get(i).result());
        }
        return out;
      });
    });
    Future<List<Job>> failures = store.recentFailures(20);
    Future.all(local, replicas, failures).onSuccess(all -> {
      JsonObject mine = local.result();
      JsonArray workers = mine.getJsonArray("workers").copy();
      // each replica learns the model load times its own workers report
      JsonArray replicaList = new JsonArray().add(new JsonObject().put("id", routerId).put("reachable", true)
          .put("model_load_ms", mine.getJsonObject("model_load_ms")));
      for (JsonObject other : replicas.result()) {
        replicaList.add(new JsonObject().put("id", other.getString("router_id")).put("url", other.getString("url"))
            .put("reachable", other.getBoolean("reachable", true))
            .put("model_load_ms", other.getJsonObject("model_load_ms", new JsonObject())));
        other.getJsonArray("workers", new JsonArray()).forEach(workers::add);
      }
      JsonArray recent = new JsonArray();
      for (Job job : failures.result()) {
        recent.add(new JsonObject().put("job_id", job.id()).put("user_id", job.userId()).put("code", job.errorCode())
            .put("message", job.errorMessage())
            .put("finished_at", job.finishedAt() == null ? null : job.finishedAt().toString()));
      }
      ok(ctx, new JsonObject().put("queue", mine.getJsonObject("queue"))
          .put("throughput_per_s", mine.getValue("throughput_per_s"))
          .put("dispatch_latency_ms", mine.getJsonObject("dispatch_latency_ms")).put("workers", workers)
          .put("recent_failures", recent).put("replicas", replicaList));
    }).onFailure(ctx::fail);
  }

  /** POST /v1/admin/workers/{id}/drain: asks every live replica; the one holding the worker drains it. */
  void drain(RoutingContext ctx) {
    String workerId = ctx.pathParam("id");
    vertx.eventBus().<Boolean>request(DispatcherVerticle.DRAIN, new DrainWorker(workerId, "operator request"))
        .compose(reply -> reply.body() ? Future.succeededFuture(routerId)
            : store.liveRouters().compose(live -> drainElsewhere(live, workerId, 0)))
        .onSuccess(holder -> ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("worker_id", workerId).put("router_id", holder).encode()))
        .onFailure(ctx::fail);
  }

  private Future<String> drainElsewhere(List<JobStore.Replica> live, String workerId, int index) {
    if (index >= live.size()) {
      return Future.failedFuture(ApiException.notFound("no replica has a worker " + workerId));
    }
    JobStore.Replica replica = live.get(index);
    if (replica.id().equals(routerId) || replica.url() == null) {
      return drainElsewhere(live, workerId, index + 1);
    }
    return client.postAbs(replica.url() + "/internal/v1/workers/" + workerId + "/drain")
        .putHeader(InternalAuth.HEADER, internalToken).timeout(3_000).send()
        .transform(ar -> ar.succeeded() && ar.result().statusCode() == 202 ? Future.succeededFuture(replica.id())
            : drainElsewhere(live, workerId, index + 1));
  }

  /** POST /v1/admin/jobs/{id}/cancel: cancels any user's job. */
  void cancel(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!Uuids.isUuid(id)) {
      ctx.fail(ApiException.badRequest("invalid_id", "'" + id + "' is not a generation id (a UUID)"));
      return;
    }
    store.getAny(id).compose(job -> {
      if (job == null) {
        return Future.failedFuture(ApiException.notFound("no generation " + id));
      }
      return store.cancel(job.userId(), id).compose(t -> {
        if (!t.applied()) {
          return Future.failedFuture(ApiException.conflict("already_finished",
              "the job already ended as " + job.status().wire()));
        }
        vertx.eventBus().send(DispatcherVerticle.CANCELED, new Canceled(id, t.attempt()));
        return store.getAny(id);
      });
    }).onSuccess(job -> ok(ctx, JobView.of(job, null, publicUrl))).onFailure(ctx::fail);
  }

  /** POST /v1/admin/jobs/requeue {job_ids}: failed jobs go back to the queue with fresh attempts. */
  void requeue(RoutingContext ctx) {
    JsonArray ids = ctx.body().asJsonObject().getJsonArray("job_ids");
    if (ids.size() > MAX_REQUEUE) {
      ctx.fail(ApiException.badRequest("too_many_jobs", "re-queue at most " + MAX_REQUEUE + " jobs at once"));
      return;
    }
    List<String> jobIds = new ArrayList<>();
    ids.forEach(id -> jobIds.add(String.valueOf(id)));
    store.requeueFailed(jobIds, maxAttempts).onSuccess(requeued -> ok(ctx, new JsonObject()
        .put("requeued", requeued.size()).put("job_ids", new JsonArray(requeued)))).onFailure(ctx::fail);
  }

  static void requireAdmin(RoutingContext ctx) {
    AuthHandler.requireAdmin().handle(ctx);
  }

  private Future<JsonObject> snapshot() {
    return vertx.eventBus().<JsonObject>request(DispatcherVerticle.SNAPSHOT, "").map(m -> m.body());
  }

  private Future<JsonObject> remoteFleet(JobStore.Replica replica) {
    JsonObject unreachable = new JsonObject().put("router_id", replica.id()).put("url", replica.url())
        .put("reachable", false).put("workers", new JsonArray());
    if (replica.url() == null) {
      return Future.succeededFuture(unreachable);
    }
    return client.getAbs(replica.url() + "/internal/v1/fleet").putHeader(InternalAuth.HEADER, internalToken)
        .timeout(2_000).send()
        .map(r -> r.statusCode() == 200 ? r.bodyAsJsonObject().put("url", replica.url()).put("reachable", true)
            : unreachable)
        .otherwise(unreachable);
  }

  private static void ok(RoutingContext ctx, JsonObject json) {
    ctx.response().putHeader("Content-Type", "application/json").end(json.encode());
  }
}
