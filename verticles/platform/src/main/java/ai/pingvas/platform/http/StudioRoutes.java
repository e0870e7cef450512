package ai.pingvas.platform.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.net.URI;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * Serves the Studio web page and the operator view ({@code webroot/studio} on the classpath) at
 * {@code /studio/}, and redirects {@code /} there. The page is plain HTML/CSS/JS that talks only to
 * the public API, so it is sent with a strict Content-Security-Policy: scripts and styles from this
 * origin only, no inline code, images also from the object store that presigned URLs point at.
 */
public final class StudioRoutes {
  static final String WEBROOT = "webroot/studio";
  /** Where presigned URLs point when no S3 endpoint is configured (AWS). */
  static final String AWS_ORIGIN = "https://*.amazonaws.com";
  /** Scripts and styles are not fingerprinted (no build step): browsers may reuse them briefly. */
  private static final String ASSET_CACHE = "public, max-age=300, must-revalidate";

  private StudioRoutes() {
  }

  /**
   * Mounts the page on {@code router}; call before any catch-all API sub-router, since the page
   * itself needs no credentials (it asks for them).
   *
   * @param imageOrigins origins the page may show images from (the object store's public endpoint)
   */
  public static Router mount(Router router, Set<String> imageOrigins) {
    String policy = contentSecurityPolicy(imageOrigins);
    router.get("/").handler(ctx -> redirect(ctx, "/studio/"));
    // Vert.x matches "/studio" with or without the slash: only the bare one redirects.
    router.get("/studio").handler(ctx -> {
      if (ctx.request().path().equals("/studio")) {
        redirect(ctx, "/studio/");
      } else {
        ctx.next();
      }
    });
    router.route("/studio/*").handler(ctx -> {
      HttpServerResponse response = ctx.response();
      response.headersEndHandler(v -> securityHeaders(response, policy, ctx.normalizedPath()));
      ctx.next();
    }).handler(StaticHandler.create(WEBROOT).setIndexPage("index.html").setCachingEnabled(true)
        .setDirectoryListing(false).setIncludeHidden(false).setDefaultContentEncoding("UTF-8"))
        .handler(ctx -> ctx.fail(404));
    return router;
  }

  /**
   * The origins of the object store's presigned URLs: the first configured endpoint that is set
   * (public endpoint before the internal one), else AWS.
   */
  public static Set<String> imageOrigins(String... endpoints) {
    Set<String> origins = new LinkedHashSet<>();
    Arrays.stream(endpoints).filter(Objects::nonNull).map(String::trim).filter(e -> !e.isEmpty()).findFirst()
        .ifPresentOrElse(endpoint -> origins.add(origin(endpoint)), () -> origins.add(AWS_ORIGIN));
    return origins;
  }

  static String contentSecurityPolicy(Set<String> imageOrigins) {
    String images = String.join(" ", imageOrigins);
    return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: " + images
        + "; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  }

  private static String origin(String endpoint) {
    URI uri = URI.create(endpoint);
    if (uri.getScheme() == null || uri.getHost() == null) {
      throw new IllegalArgumentException("not an absolute URL: " + endpoint);
    }
    return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
  }

  private static void securityHeaders(HttpServerResponse response, String policy, String path) {
    var headers = response.headers();
    if (response.getStatusCode() < 400) {
      // HTML revalidates every time so a deploy shows at once; assets are reused for a few minutes.
      boolean html = path.endsWith("/") || path.endsWith(".html");
      headers.set(HttpHeaders.CACHE_CONTROL, html ? "no-cache" : ASSET_CACHE);
    }
    headers.set("Content-Security-Policy", policy);
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("Referrer-Policy", "no-referrer");
    headers.set("X-Frame-Options", "DENY");
    headers.set("Cross-Origin-Opener-Policy", "same-origin");
    headers.set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
  }

  private static void redirect(RoutingContext ctx, String location) {
    ctx.response().setStatusCode(302).putHeader(HttpHeaders.LOCATION, location).end();
  }
}
