package ai.pingvas.models.http;

import ai.pingvas.models.storage.SourceCheck;
import ai.pingvas.models.store.ModelStore;
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
import java.time.Duration;

/** The model API (from its OpenAPI contract; writes need the admin role) and the routers' internal list. */
public final class ModelApiVerticle extends VerticleBase {
  private final ServiceRuntime runtime;
  private final ModelStore store;
  private final Authenticator authenticator;
  private final Contracts.Loaded contract;
  private final Duration holdingTtl;
  private final SourceCheck sources;
  private HttpServer server;

  public ModelApiVerticle(ServiceRuntime runtime, ModelStore store, Authenticator authenticator,
      Contracts.Loaded contract, Duration holdingTtl, SourceCheck sources) {
    this.runtime = runtime;
    this.store = store;
    this.authenticator = authenticator;
    this.contract = contract;
    this.holdingTtl = holdingTtl;
    this.sources = sources;
  }

  @Override
  public Future<?> start() {
    var config = runtime.config();
    ModelHandlers models = new ModelHandlers(store, holdingTtl, sources);

    Router router = OpsRoutes.mount(Router.router(vertx), runtime);
    router.get("/openapi.yaml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/yaml")
        .end(contract.text()));
    router.get("/internal/v1/models").handler(InternalAuth.create(config.optionalString("auth.internal-token")))
        .handler(models::internalList);

    RouterBuilder api = RouterBuilder.create(vertx, contract.contract(), RequestExtractor.withBodyHandler())
        .rootHandler(BodyHandler.create().setBodyLimit(config.integer("http.body-limit-bytes")))
        .rootHandler(AuthHandler.create(authenticator))
        .rootHandler(new TextCheck());
    api.getRoutes().forEach(route -> route.setDoSecurity(false));
    api.getRoute("listModels").addHandler(models::list);
    api.getRoute("getModel").addHandler(models::get);
    api.getRoute("createModel").addHandler(AuthHandler.requireAdmin()).addHandler(models::create);
    api.getRoute("updateModel").addHandler(AuthHandler.requireAdmin()).addHandler(models::update);
    api.getRoute("deleteModel").addHandler(AuthHandler.requireAdmin()).addHandler(models::delete);
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
