package ai.pingvas.gallery.http;

import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.store.ImageStore;
import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.auth.InternalAuth;
import ai.pingvas.platform.http.TextCheck;
import ai.pingvas.platform.http.Contracts;
import ai.pingvas.platform.http.OpsRoutes;
import ai.pingvas.platform.http.ServerOptions;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.platform.tiers.TierCatalog;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;

/** The gallery API (from its OpenAPI contract) and the router-only verification endpoint. */
public final class GalleryApiVerticle extends VerticleBase {
  private final ServiceRuntime runtime;
  private final ImageStore store;
  private final ObjectStore objects;
  private final Authenticator authenticator;
  private final TierCatalog tiers;
  private final Contracts.Loaded contract;
  private HttpServer server;

  public GalleryApiVerticle(ServiceRuntime runtime, ImageStore store, ObjectStore objects,
      Authenticator authenticator, TierCatalog tiers, Contracts.Loaded contract) {
    this.runtime = runtime;
    this.store = store;
    this.objects = objects;
    this.authenticator = authenticator;
    this.tiers = tiers;
    this.contract = contract;
  }

  @Override
  public Future<?> start() {
    var config = runtime.config();
    ImageQueries images = new ImageQueries(store, objects);
    ImageCommands commands = new ImageCommands(store, objects, tiers);
    UploadVerifier verifier = new UploadVerifier(objects, store);
    InternalAuth internal = InternalAuth.create(config.optionalString("auth.internal-token"));

    Router router = OpsRoutes.mount(Router.router(vertx), runtime);
    router.get("/openapi.yaml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/yaml")
        .end(contract.text()));
    router.post("/internal/v1/images/verify").handler(BodyHandler.create().setBodyLimit(256 * 1024))
        .handler(internal).handler(verifier::verify);
    router.get("/internal/v1/storage/:user_id").handler(internal).handler(commands::internalStorage);

    RouterBuilder api = RouterBuilder.create(vertx, contract.contract(), RequestExtractor.withBodyHandler())
        .rootHandler(BodyHandler.create().setBodyLimit(config.integer("http.body-limit-bytes")))
        .rootHandler(AuthHandler.create(authenticator))
        .rootHandler(new TextCheck());
    api.getRoutes().forEach(route -> route.setDoSecurity(false));
    api.getRoute("listImages").addHandler(images::list);
    api.getRoute("getImage").addHandler(images::get);
    api.getRoute("getImageContent").addHandler(images::content);
    api.getRoute("getImageThumbnail").addHandler(images::thumbnail);
    api.getRoute("deleteImage").addHandler(commands::delete);
    api.getRoute("getStorageUsage").addHandler(commands::usage);
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
