package ai.pingvas.models.http;

import ai.pingvas.models.domain.Model;
import ai.pingvas.models.storage.SourceCheck;
import ai.pingvas.models.store.ModelStore;
import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The registry's requests; bodies and parameters were validated against the contract first. */
final class ModelHandlers {
  private final ModelStore store;
  private final Duration holdingTtl;
  private final SourceCheck sources;

  /** {@code sources} null: sources are stored unchecked ({@code storage.check-sources} off). */
  ModelHandlers(ModelStore store, Duration holdingTtl, SourceCheck sources) {
    this.store = store;
    this.holdingTtl = holdingTtl;
    this.sources = sources;
  }

  void list(RoutingContext ctx) {
    String kind = ctx.request().getParam("kind");
    String base = ctx.request().getParam("base");
    Future.all(store.list(kind, base), store.holders(holdingTtl)).onSuccess(all -> {
      List<Model> models = all.resultAt(0);
      Map<String, List<String>> holders = all.resultAt(1);
      JsonArray items = new JsonArray();
      models.forEach(m -> items.add(m.toJson().put("loaded_on", holders.getOrDefault(m.name(), List.of()).size())));
      json(ctx, 200, new JsonObject().put("items", items));
    }).onFailure(ctx::fail);
  }

  void get(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    Future.all(store.get(name), store.holders(holdingTtl)).onSuccess(all -> {
      Model model = all.resultAt(0);
      if (model == null) {
        ctx.fail(ApiException.notFound("no model '" + name + "'"));
        return;
      }
      Map<String, List<String>> holders = all.resultAt(1);
      List<String> workers = holders.getOrDefault(name, List.of());
      json(ctx, 200, model.toJson().put("loaded_on", workers.size()).put("workers", new JsonArray(workers)));
    }).onFailure(ctx::fail);
  }

  void create(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    Model model = Model.fromJson(body.getString("name"), body);
    // a taken name is a 409 whatever its source; the insert below still decides a race
    store.get(model.name()).compose(existing -> existing != null ? Future.failedFuture(taken(model.name()))
            : sourceChecked(ctx, model, null))
        .compose(v -> store.create(model))
        .compose(created -> created ? store.get(model.name()) : Future.failedFuture(taken(model.name())))
        .onSuccess(stored -> {
          ctx.response().putHeader("Location", "/v1/models/" + stored.name());
          json(ctx, 201, stored.toJson());
        })
        .onFailure(ctx::fail);
  }

  void update(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    JsonObject body = ctx.body().asJsonObject();
    if (body.getString("name") != null && !body.getString("name").equals(name)) {
      ctx.fail(ApiException.badRequest("name_mismatch", "a model cannot be renamed; register the new name instead"));
      return;
    }
    Model model = Model.fromJson(name, body);
    // an unknown name is a 404 whatever its source
    store.get(name).compose(existing -> existing == null ? Future.succeededFuture()
        : sourceChecked(ctx, model, existing).compose(v -> store.update(model))).onSuccess(updated -> {
      if (updated == null) {
        ctx.fail(ApiException.notFound("no model '" + name + "'"));
      } else {
        json(ctx, 200, updated.toJson());
      }
    }).onFailure(ctx::fail);
  }

  void delete(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    store.delete(name).onSuccess(deleted -> {
      if (deleted) {
        ctx.response().setStatusCode(204).end();
      } else {
        ctx.fail(ApiException.notFound("no model '" + name + "'"));
      }
    }).onFailure(ctx::fail);
  }

  /**
   * Whether the model's weights are where it says, before anything is stored; not looked at again
   * when a change keeps the {@code existing} model's source (editing its metadata needs no S3).
   */
  private Future<Void> sourceChecked(RoutingContext ctx, Model model, Model existing) {
    if (sources == null || existing != null && model.source().equals(existing.source())) {
      return Future.succeededFuture();
    }
    return sources.check(ctx.vertx().getOrCreateContext(), model.source()).mapEmpty();
  }

  private static ApiException taken(String name) {
    return ApiException.conflict("model_exists", "a model named '" + name + "' is already registered; update it "
        + "with PUT");
  }

  /** {@code GET /internal/v1/models}: the compact registry routers cache for their submit
   * checks, and to tell a worker lacking a job's model where its weights are. */
  void internalList(RoutingContext ctx) {
    store.list(null, null).onSuccess(models -> {
      JsonArray items = new JsonArray();
      models.forEach(m -> items.add(new JsonObject().put("name", m.name()).put("kind", m.kind()).put("base", m.base())
          .put("vram_mb", m.vramMb()).put("source", m.source())));
      json(ctx, 200, new JsonObject().put("items", items));
    }).onFailure(ctx::fail);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
