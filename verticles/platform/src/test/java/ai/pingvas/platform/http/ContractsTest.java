package ai.pingvas.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The validator's copy of a contract holds strings to what the document means: a pattern's final
 * {@code $} is the end of the input, a uuid is the 36-character form; a body of a media type the
 * operation does not take is a 415. Through a real router built from a contract, as the services do.
 */
class ContractsTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static Vertx vertx;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    Contracts.Loaded contract = Contracts.load(vertx, "contracts/things.yaml")
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    RouterBuilder api = RouterBuilder.create(vertx, contract.contract(), RequestExtractor.withBodyHandler())
        .rootHandler(BodyHandler.create().setBodyLimit(64 * 1024))
        .rootHandler(new TextCheck());
    Contracts.route(api, "createThing").addHandler(ctx -> ctx.response().setStatusCode(201)
        .end(ctx.body().asJsonObject().getString("name")));
    Contracts.route(api, "getThing").addHandler(ctx -> ctx.response().end(ctx.pathParam("id")));
    Router router = Router.router(vertx);
    router.route("/*").subRouter(api.createRouter());
    router.route().failureHandler(ProblemHandler.create());
    port = vertx.createHttpServer(ServerOptions.defaults()).requestHandler(router).listen(0)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static HttpResponse<String> post(String body, String contentType) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/things"))
        .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject problem(HttpResponse<String> response, int status) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("application/problem+json"));
    return new JsonObject(response.body());
  }

  @Test
  void aPatternEndsAtTheEndOfTheInputNotBeforeATrailingLineBreak() throws Exception {
    assertThat(post("{\"name\": \"sdxl\"}", "application/json").statusCode()).isEqualTo(201);
    JsonObject p = problem(post("{\"name\": \"sdxl\\n\"}", "application/json"), 400);
    assertThat(p.getString("detail")).contains("/name");
  }

  @Test
  void aUuidIsTheCanonicalFormInEitherCase() throws Exception {
    String id = "123e4567-e89b-12d3-a456-426614174000";
    assertThat(get("/things/" + id).statusCode()).isEqualTo(200);
    assertThat(get("/things/" + id.toUpperCase()).statusCode()).isEqualTo(200);
    assertThat(problem(get("/things/urn:uuid:" + id), 400).getString("detail"))
        .startsWith("path parameter id: ");
    problem(get("/things/" + id + "0"), 400);
  }

  @Test
  void anEmailIsCheckedAndAnEmptyOneIsA400() throws Exception {
    assertThat(post("{\"name\": \"a\", \"owner\": \"ada@example.com\"}", "application/json").statusCode())
        .isEqualTo(201);
    assertThat(problem(post("{\"name\": \"a\", \"owner\": \"not an address\"}", "application/json"), 400)
        .getString("detail")).contains("/owner");
    assertThat(problem(post("{\"name\": \"a\", \"owner\": \"\"}", "application/json"), 400)
        .getString("detail")).contains("/owner");
  }

  @Test
  void anotherMediaTypeIs415() throws Exception {
    JsonObject p = problem(post("name=sdxl", "application/x-www-form-urlencoded"), 415);
    assertThat(p.getString("code")).isEqualTo("unsupported_media_type");
  }

  @Test
  void theNulCharacterIsRefusedNamingWhereItIs() throws Exception {
    JsonObject inNote = problem(post("{\"name\": \"a\", \"note\": \"x\\u0000y\"}", "application/json"), 400);
    assertThat(inNote.getString("code")).isEqualTo("validation_failed");
    assertThat(inNote.getString("detail")).isEqualTo("/note: must not contain the NUL character (U+0000)");
    assertThat(inNote.getJsonArray("errors").getJsonObject(0).getString("pointer")).isEqualTo("/note");
    JsonObject inList = problem(post("{\"name\": \"a\", \"tags\": [\"ok\", \"\\u0000\"]}", "application/json"), 400);
    assertThat(inList.getString("detail")).startsWith("/tags/1:");
    // a backslash followed by the text u0000 is no NUL
    assertThat(post("{\"name\": \"a\", \"note\": \"C:\\\\u0000\"}", "application/json").statusCode()).isEqualTo(201);
    assertThat(problem(get("/things/%00"), 400).getString("code")).isEqualTo("invalid_uri");
  }

  @Test
  void aBodyThatIsNotUtf8IsRefused() throws Exception {
    byte[] body = {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/things"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(problem(response, 400).getString("code")).isEqualTo("invalid_utf8");
  }

  @Test
  void theQuickScanFindsEveryNulEscapeAndNoEscapedBackslash() {
    assertThat(TextCheck.mayHoldNul("{\"a\":\"\\u0000\"}".getBytes())).isTrue();
    assertThat(TextCheck.mayHoldNul("{\"a\":\"\\\\\\u0000\"}".getBytes())).isTrue();
    assertThat(TextCheck.mayHoldNul("{\"a\":\"\\\\u0000\"}".getBytes())).isFalse();
    assertThat(TextCheck.mayHoldNul("{\"a\":\"\\u00001\"}".getBytes())).isTrue();
    assertThat(TextCheck.mayHoldNul("{\"a\":\"\\u0001\"}".getBytes())).isFalse();
    assertThat(TextCheck.mayHoldNul(new byte[] {'"', 0, '"'})).isTrue();
  }
}
