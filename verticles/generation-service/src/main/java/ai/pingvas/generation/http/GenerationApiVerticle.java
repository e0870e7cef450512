package ai.pingvas.generation.http;

import ai.pingvas.generation.events.EventBuffer;
import ai.pingvas.generation.events.StreamHub;
import ai.pingvas.generation.store.JobStore;
import ai.pingvas.generation.store.NewJob;
import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.db.GroupCommit;
import ai.pingvas.platform.auth.InternalAuth;
import ai.pingvas.platform.http.TextCheck;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.http.BodyValidation;
import ai.pingvas.platform.http.Contracts;
import ai.pingvas.platform.http.OpsRoutes;
import ai.pingvas.platform.http.ServerOptions;
import ai.pingvas.platform.http.StudioRoutes;
import ai.pingvas.platform.launch.ServiceRuntime;
import io.micrometer.core.instrument.DistributionSummary;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import java.util.List;

/** The generation API: REST from the OpenAPI contract, the client event stream and the worker socket. */
public final class GenerationApiVerticle extends VerticleBase {
  private final ServiceRuntime runtime;
  private final JobStore store;
  private final Authenticator authenticator;
  private final StreamHub hub;
  private final EventBuffer buffer;
  private final Contracts.Loaded contract;
  private final List<SubmitCheck> submitChecks;
  private final String routerId;
  private HttpServer server;

  public GenerationApiVerticle(ServiceRuntime runtime, JobStore store, Authenticator authenticator, StreamHub hub,
      EventBuffer buffer, Contracts.Loaded contract, List<SubmitCheck> submitChecks, String routerId) {
    this.runtime = runtime;
    this.store = store;
    this.authenticator = authenticator;
    this.hub = hub;
    this.buffer = buffer;
    this.contract = contract;
    this.submitChecks = List.copyOf(submitChecks);
    this.routerId = routerId;
  }

  @Override
  public Future<?> start() {
    var config = runtime.config();
    String publicUrl = config.string("http.public-url");
    AuthHandler auth = AuthHandler.create(authenticator);
    int insertsInFlight = config.integer("queue.inserts-in-flight", 1);
    // Submissions are committed in groups while earlier inserts are in flight (one fsync for many).
    GroupCommit<NewJob, JobStore.Inserted> batcher = new GroupCommit<>(store::insert, 256, insertsInFlight,
        DistributionSummary.builder("pingvas_submit_batch_size").description("submissions committed per INSERT")
            .register(runtime.registry()));
    SubmitHandler submit = new SubmitHandler(vertx, store, batcher, runtime.probes(),
        config.integer("retry.max-attempts"), publicUrl, config.duration("queue.retry-after").toSeconds(),
        submitChecks, routerId);
    JobQueries jobs = new JobQueries(vertx, store, publicUrl);
    WorkerGateway workers = new WorkerGateway(vertx, config.optionalString("workers.token"));
    StreamGateway stream = new StreamGateway(hub, authenticator, buffer, store, publicUrl);

    Router router = OpsRoutes.mount(Router.router(vertx), runtime);
    router.get("/openapi.yaml").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "application/yaml").end(contract.text()));
    AdminHandlers admin = new AdminHandlers(vertx, store, config.optionalString("auth.internal-token"),
        routerId, publicUrl, config.integer("retry.max-attempts"));
    InternalAuth internal = InternalAuth.create(config.optionalString("auth.internal-token"));
    router.get("/internal/v1/fleet").handler(internal).handler(admin::localFleet);
    router.post("/internal/v1/workers/:id/drain").handler(internal).handler(admin::localDrain);

    RouterBuilder api = RouterBuilder.create(vertx, contract.contract(), RequestExtractor.withBodyHandler())
        .rootHandler(BodyHandler.create().setBodyLimit(config.integer("http.body-limit-bytes")))
        .rootHandler(auth)
        .rootHandler(new TextCheck());
    api.getRoutes().forEach(route -> route.setDoSecurity(false));
    // The submit body is validated against the same contract schema with a validator built once.
    Contracts.route(api, "submitGeneration").setDoValidation(false)
        .addHandler(BodyValidation.of(contract.contract(), "submitGeneration")).addHandler(submit);
    Contracts.route(api, "listGenerations").addHandler(jobs::list);
    Contracts.route(api, "getGeneration").addHandler(jobs::get);
    Contracts.route(api, "cancelGeneration").addHandler(jobs::cancel);
    Contracts.route(api, "adminOverview").addHandler(AdminHandlers::requireAdmin).addHandler(admin::overview);
    Contracts.route(api, "adminDrainWorker").addHandler(AdminHandlers::requireAdmin).addHandler(admin::drain);
    Contracts.route(api, "adminCancelJob").addHandler(AdminHandlers::requireAdmin).addHandler(admin::cancel);
    Contracts.route(api, "adminRequeueJobs").addHandler(AdminHandlers::requireAdmin).addHandler(admin::requeue);
    StudioRoutes.mount(router, StudioRoutes.imageOrigins(config.optionalString("storage.public-endpoint"),
        config.optionalString("storage.endpoint")));
    router.route("/*").subRouter(api.createRouter());
    OpsRoutes.notFound(router);

    server = vertx.createHttpServer(ServerOptions.defaults()
        .setMaxWebSocketMessageSize(1024 * 1024).setMaxWebSocketFrameSize(256 * 1024)
        .setIdleTimeout(0).setCompressionSupported(true));
    // WebSockets are authenticated during the handshake, before the upgrade is accepted.
    server.webSocketHandshakeHandler(handshake -> {
      switch (handshake.path()) {
        case "/v1/stream" -> stream.handshake(handshake);
        case "/v1/workers/connect" -> workers.handshake(handshake);
        default -> handshake.reject(404);
      }
    });
    return server.requestHandler(router).listen(config.integer("http.port"), config.string("http.host"));
  }

  @Override
  public Future<?> stop() {
    return runtime.shutdown(server);
  }
}
