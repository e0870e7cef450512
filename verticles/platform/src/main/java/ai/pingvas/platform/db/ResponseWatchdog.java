package ai.pingvas.platform.db;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Closes a Postgres connection that owes answers and has received nothing for longer than the
 * response timeout: a half-open link (a failed-over or partitioned server that never sent a FIN or
 * RST) would otherwise hold the connection's statements, and everything pipelined behind them, until
 * the kernel gives up retransmitting (~15 minutes). Sits between TLS and the client's codec, so it
 * sees the plain protocol: every Sync or simple Query is answered by exactly one ReadyForQuery, so
 * the difference is what the server owes. Any bytes from the server count as progress (a long result
 * streams rows); a statement Postgres is still running sends nothing, so the timeout must exceed the
 * statement timeout.
 */
final class ResponseWatchdog extends ChannelDuplexHandler {
  /** Protocol message types: frontend Sync and Query, backend ReadyForQuery. */
  private static final char SYNC = 'S';
  private static final char QUERY = 'Q';
  private static final char READY_FOR_QUERY = 'Z';

  /** Told of the connection's life: watched from now on, gone, or closed for silence (answers owed, ms silent). */
  interface Verdict {
    default void watching(ResponseWatchdog watchdog) {
    }

    default void gone(ResponseWatchdog watchdog) {
    }

    void closed(ChannelHandlerContext ctx, long owed, long silentMs);
  }

  private final long timeoutNanos;
  private final LongSupplier clock;
  private final Verdict verdict;
  private final MessageCounter requests = new MessageCounter(SYNC, QUERY);
  private final MessageCounter answers = new MessageCounter(READY_FOR_QUERY);
  private long owed;
  private long lastProgress;
  private ChannelHandlerContext context;
  private ScheduledFuture<?> check;

  ResponseWatchdog(long timeoutNanos, LongSupplier clock, Verdict verdict) {
    this.timeoutNanos = timeoutNanos;
    this.clock = clock;
    this.verdict = verdict;
  }

  /** How often the connection is checked: a quarter of the timeout, at least 10 ms, at most a second. */
  static long checkPeriodNanos(long timeoutNanos) {
    return Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(TimeUnit.SECONDS.toNanos(1), timeoutNanos / 4));
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    context = ctx;
    long period = checkPeriodNanos(timeoutNanos);
    check = ctx.executor().scheduleAtFixedRate(this::check, period, period, TimeUnit.NANOSECONDS);
    verdict.watching(this);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stopChecking();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    stopChecking();
    super.channelInactive(ctx);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof ByteBuf buf) {
      int sent = requests.count(buf);
      if (sent > 0) {
        if (owed == 0) {
          lastProgress = clock.getAsLong(); // the wait starts with the first request owed an answer
        }
        owed += sent;
      }
    }
    super.write(ctx, msg, promise);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf buf) {
      lastProgress = clock.getAsLong();
      owed = Math.max(0, owed - answers.count(buf));
    }
    super.channelRead(ctx, msg);
  }

  /** Answers still owed (tests). */
  long owed() {
    return owed;
  }

  /** Closes the connection if it owes answers and has been silent for longer than the timeout. */
  void check() {
    if (owed == 0 || !context.channel().isOpen()) {
      return;
    }
    long silent = clock.getAsLong() - lastProgress;
    if (silent > timeoutNanos) {
      stopChecking();
      context.channel().close();
      verdict.closed(context, owed, TimeUnit.NANOSECONDS.toMillis(silent));
    }
  }

  /**
   * Another connection to the same server was just found silent: this one, if it owes nothing, has
   * nothing to prove it is not half-open too, and the next statement lent it would wait out the
   * timeout again (one after another, for each idle connection in the pool). Closing it costs a
   * reconnect. Runs on the connection's event loop; true if it closed.
   */
  boolean closeIfIdle() {
    if (owed != 0 || context == null || !context.channel().isOpen()) {
      return false;
    }
    stopChecking();
    context.channel().close();
    return true;
  }

  /** Runs {@link #closeIfIdle()} on the connection's own event loop, then {@code onClosed} if it closed. */
  void closeIfIdleLater(Runnable onClosed) {
    if (context != null) {
      context.executor().execute(() -> {
        if (closeIfIdle()) {
          onClosed.run();
        }
      });
    }
  }

  private void stopChecking() {
    if (check != null) {
      check.cancel(false);
      check = null;
      verdict.gone(this);
    }
  }
}
