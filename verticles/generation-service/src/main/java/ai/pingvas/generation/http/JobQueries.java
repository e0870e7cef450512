package ai.pingvas.generation.http;

import ai.pingvas.generation.dispatch.DispatchMessages.Canceled;
import ai.pingvas.generation.dispatch.DispatchMessages.Locate;
import ai.pingvas.generation.dispatch.DispatcherVerticle;
import ai.pingvas.generation.domain.Job;
import ai.pingvas.generation.domain.JobStatus;
import ai.pingvas.generation.events.PositionBoard;
import ai.pingvas.generation.store.JobStore;
import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Reading and canceling a user's jobs. Another user's job is indistinguishable from a missing one. */
final class JobQueries {
  private final Vertx vertx;
  private final JobStore store;
  private final String publicUrl;

  JobQueries(Vertx vertx, JobStore store, String publicUrl) {
    this.vertx = vertx;
    this.store = store;
    this.publicUrl = publicUrl;
  }

  void get(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    String id = jobId(ctx);
    store.get(principal.userId(), id)
        .compose(job -> job == null ? Future.failedFuture(notFound(id)) : view(job))
        .onSuccess(json -> ok(ctx, json))
        .onFailure(ctx::fail);
  }

  void list(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    String status = ctx.request().getParam("status");
    String limit = ctx.request().getParam("limit");
    store.list(principal.userId(), status == null ? null : JobStatus.fromWire(status),
            ctx.request().getParam("cursor"), limit == null ? 20 : Integer.parseInt(limit))
        .compose(page -> {
          List<Future<JsonObject>> views = new ArrayList<>();
          page.items().forEach(job -> views.add(view(job)));
          return Future.all(views).map(all -> new JsonObject()
              .put("items", new JsonArray(all.list()))
              .put("next_cursor", page.nextCursor()));
        })
        .onSuccess(json -> ok(ctx, json))
        .onFailure(ctx::fail);
  }

  void cancel(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    String id = jobId(ctx);
    store.cancel(principal.userId(), id).compose(transition -> {
      if (transition == null) {
        return Future.failedFuture(notFound(id));
      }
      if (transition.applied()) {
        vertx.eventBus().send(DispatcherVerticle.CANCELED, new Canceled(id, transition.attempt()));
      }
      return store.get(principal.userId(), id).compose(job -> transition.applied() ? view(job)
          : Future.failedFuture(ApiException.conflict("already_finished",
              "the job already ended as " + job.status().wire() + " and cannot be canceled")));
    }).onSuccess(json -> ok(ctx, json)).onFailure(ctx::fail);
  }

  private Future<JsonObject> view(Job job) {
    if (job.status() != JobStatus.QUEUED) {
      return Future.succeededFuture(JobView.of(job, null, publicUrl));
    }
    return vertx.eventBus().<PositionBoard.Place>request(DispatcherVerticle.LOCATE, new Locate(job.id()))
        .map(reply -> JobView.of(job, reply.body(), publicUrl))
        .otherwise(err -> JobView.of(job, null, publicUrl));
  }

  private static String jobId(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    try {
      if (id != null && id.length() == 36) {
        return UUID.fromString(id).toString();
      }
    } catch (IllegalArgumentException e) {
      // fall through
    }
    throw ApiException.badRequest("invalid_id", "'" + id + "' is not a generation id (a UUID)");
  }

  private static ApiException notFound(String id) {
    return ApiException.notFound("no generation " + id);
  }

  private static void ok(RoutingContext ctx, JsonObject json) {
    ctx.response().putHeader("Content-Type", "application/json").end(json.encode());
  }
}
