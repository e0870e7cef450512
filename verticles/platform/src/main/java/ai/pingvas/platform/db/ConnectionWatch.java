package ai.pingvas.platform.db;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.internal.SqlConnectionInternal;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a {@link ResponseWatchdog} on Postgres connections. One whose server owes answers and has
 * been silent for the response timeout is closed and its statements fail (callers answer 503 or
 * retry); the idle connections are closed with it (after a failover they are as dead, and each
 * would hold its next statement for the timeout again); the pool opens new ones. The client has no
 * such timeout of its own (pgJDBC's {@code socketTimeout}); TCP keepalive does not help a
 * connection with unacknowledged data, and TCP_USER_TIMEOUT needs the native transport.
 */
public final class ConnectionWatch {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionWatch.class);
  private static final String HANDLER = "pingvas-response-watchdog";
  /** The client's own handler that encodes and decodes the protocol; the watchdog goes just before it. */
  private static final String CODEC = "codec";

  private final Duration responseTimeout;
  private final Counter silent;
  private final Counter suspect;
  /** The connections watched now (a pool's and the service's own), so one found silent can end its idle peers. */
  private final Set<ResponseWatchdog> watched = ConcurrentHashMap.newKeySet();
  private final ResponseWatchdog.Verdict verdict = new ResponseWatchdog.Verdict() {
    @Override
    public void watching(ResponseWatchdog watchdog) {
      watched.add(watchdog);
    }

    @Override
    public void gone(ResponseWatchdog watchdog) {
      watched.remove(watchdog);
    }

    @Override
    public void closed(ChannelHandlerContext ctx, long owed, long silentMs) {
      silent.increment();
      LOG.atWarn().addKeyValue("server", String.valueOf(ctx.channel().remoteAddress()))
          .addKeyValue("unanswered", owed).addKeyValue("silent_ms", silentMs)
          .log("closed a Postgres connection whose server sent nothing for pg.response-timeout while statements "
              + "waited (half-open link or stalled server); its statements fail, idle connections are closed too, "
              + "the pool reconnects");
      watched.forEach(peer -> peer.closeIfIdleLater(suspect::increment));
    }
  };

  public ConnectionWatch(Duration responseTimeout, MeterRegistry registry) {
    this.responseTimeout = responseTimeout;
    String name = "pingvas_pg_connections_unresponsive_total";
    String description = "Postgres connections closed by the response watchdog: reason=silent owed answers and "
        + "sent nothing for pg.response-timeout (half-open link, failed-over or stalled server); reason=suspect "
        + "were idle when another was found silent";
    this.silent = Counter.builder(name).description(description).tag("reason", "silent").register(registry);
    this.suspect = Counter.builder(name).description(description).tag("reason", "suspect").register(registry);
    // 0 while the pool holds connections means the watchdog could not be installed (a client upgrade)
    Gauge.builder("pingvas_pg_connections_watched", watched, Set::size)
        .description("Postgres connections the response watchdog watches now").register(registry);
  }

  public Duration responseTimeout() {
    return responseTimeout;
  }

  /**
   * Watches the connection (one of a pool's, or one of its own) from now on; false when watching is
   * off (a zero timeout) or the connection is not a Postgres socket connection this client version
   * exposes. Call it on a connection with nothing in flight.
   */
  public boolean install(SqlConnection connection) {
    if (responseTimeout.isZero()) {
      return false;
    }
    // a pool lends a wrapper of the socket connection; a connection of its own is the socket connection
    if (!(connection instanceof SqlConnectionInternal internal)
        || !(internal.unwrap().unwrap() instanceof SocketConnectionBase socket)) {
      LOG.warn("cannot watch a {} for unanswered statements", connection.getClass().getName());
      return false;
    }
    ChannelPipeline pipeline = socket.socket().channelHandlerContext().pipeline();
    if (pipeline.get(HANDLER) == null && pipeline.get(CODEC) != null) {
      pipeline.addBefore(CODEC, HANDLER, watchdog(System::nanoTime));
    }
    return pipeline.get(HANDLER) != null;
  }

  /** A watchdog for one connection, reading time from {@code clock}. */
  ResponseWatchdog watchdog(LongSupplier clock) {
    return new ResponseWatchdog(responseTimeout.toNanos(), clock, verdict);
  }
}
