package ai.pingvas.platform.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ResponseWatchdogTest {
  private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(10);

  private final AtomicLong now = new AtomicLong(1_000);
  private final List<long[]> closes = new ArrayList<>();
  private final ResponseWatchdog watchdog = new ResponseWatchdog(TIMEOUT, now::get,
      (ctx, owed, silentMs) -> closes.add(new long[] {owed, silentMs}));
  private final EmbeddedChannel channel = new EmbeddedChannel(watchdog);

  /** One protocol message: type, length (counting itself), body. */
  private static byte[] message(char type, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(type);
    int length = bytes.length + 4;
    out.write(length >>> 24);
    out.write(length >>> 16);
    out.write(length >>> 8);
    out.write(length);
    out.write(bytes, 0, bytes.length);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.write(p, 0, p.length);
    }
    return out.toByteArray();
  }

  /** An extended-protocol statement as the client sends it: Parse, Bind, Execute, Sync. Bodies hold 'S' and 'Q' bytes. */
  private static byte[] statement() {
    return concat(message('P', "\0SELECT 'QSZ'\0\0\0"), message('B', "\0\0SSQQ"), message('E', "\0\0\0\0\0"),
        message('S', ""));
  }

  /** The server's answer to it: ParseComplete, BindComplete, a row (holding 'Z' bytes), CommandComplete, ReadyForQuery. */
  private static byte[] answer() {
    return concat(message('1', ""), message('2', ""), message('D', "\0\1\0\0\0\3QSZ"), message('C', "SELECT 1\0"),
        message('Z', "I"));
  }

  private void send(byte[] bytes) {
    channel.writeOutbound(Unpooled.wrappedBuffer(bytes));
    ((ByteBuf) channel.readOutbound()).release();
  }

  private void receive(byte[] bytes) {
    channel.writeInbound(Unpooled.wrappedBuffer(bytes));
    ((ByteBuf) channel.readInbound()).release();
  }

  private void advance(long nanos) {
    now.addAndGet(nanos);
    watchdog.check();
  }

  @Test
  void countsMessagesByTypeWhereverTheStreamIsSplit() {
    byte[] stream = concat(statement(), message('Q', "SELECT 'S'\0"), statement());
    for (int chunk = 1; chunk <= stream.length; chunk++) {
      MessageCounter counter = new MessageCounter('S', 'Q');
      int counted = 0;
      for (int from = 0; from < stream.length; from += chunk) {
        counted += counter.count(Unpooled.wrappedBuffer(stream, from, Math.min(chunk, stream.length - from)));
      }
      assertThat(counted).as("split every %d bytes", chunk).isEqualTo(3);
    }
  }

  @Test
  void closesAConnectionWhoseServerOwesAnswersAndStaysSilent() {
    send(statement());
    send(statement()); // pipelined behind the first
    receive(answer());
    assertThat(watchdog.owed()).isEqualTo(1);

    advance(TIMEOUT);
    assertThat(channel.isOpen()).as("silent for exactly the timeout").isTrue();
    advance(1);
    assertThat(channel.isOpen()).isFalse();
    assertThat(closes).hasSize(1);
    assertThat(closes.get(0)[0]).as("answers owed").isEqualTo(1);
    assertThat(closes.get(0)[1]).as("silent ms").isEqualTo(10_000);
  }

  @Test
  void leavesAnIdleConnectionWithNothingOwedOpen() {
    send(statement());
    receive(answer());
    assertThat(watchdog.owed()).isZero();
    advance(TimeUnit.HOURS.toNanos(1));
    assertThat(channel.isOpen()).isTrue();
    assertThat(closes).isEmpty();
  }

  @Test
  void rowsStillArrivingAreProgress() {
    send(statement());
    byte[] answer = answer();
    advance(TIMEOUT - 5);
    receive(Arrays.copyOfRange(answer, 0, 12)); // a long result streams in
    advance(TIMEOUT - 5);
    assertThat(channel.isOpen()).as("silent only since the last bytes").isTrue();
    receive(Arrays.copyOfRange(answer, 12, answer.length));
    advance(TimeUnit.HOURS.toNanos(1));
    assertThat(channel.isOpen()).as("answered in full").isTrue();
  }

  @Test
  void theWaitStartsWithTheFirstRequestOwedAnAnswer() {
    advance(TimeUnit.HOURS.toNanos(1)); // idle in the pool for an hour
    send(statement());
    advance(TIMEOUT - 1);
    assertThat(channel.isOpen()).isTrue();
    send(statement()); // a later request does not restart the wait for the first
    advance(2);
    assertThat(channel.isOpen()).isFalse();
    assertThat(closes.get(0)[0]).isEqualTo(2);
  }

  @Test
  void checksAQuarterOfTheTimeoutApartWithinBounds() {
    assertThat(ResponseWatchdog.checkPeriodNanos(TimeUnit.SECONDS.toNanos(2))).isEqualTo(TimeUnit.MILLISECONDS.toNanos(500));
    assertThat(ResponseWatchdog.checkPeriodNanos(TimeUnit.SECONDS.toNanos(60))).isEqualTo(TimeUnit.SECONDS.toNanos(1));
    assertThat(ResponseWatchdog.checkPeriodNanos(TimeUnit.MILLISECONDS.toNanos(20))).isEqualTo(TimeUnit.MILLISECONDS.toNanos(10));
  }

  @Test
  void aSilentConnectionTakesItsIdlePeersWithItButNotTheBusyOnes() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ConnectionWatch watch = new ConnectionWatch(Duration.ofSeconds(10), registry);
    EmbeddedChannel silent = new EmbeddedChannel(watch.watchdog(now::get));
    EmbeddedChannel idle = new EmbeddedChannel(watch.watchdog(now::get));
    EmbeddedChannel busy = new EmbeddedChannel(watch.watchdog(now::get));
    assertThat(registry.get("pingvas_pg_connections_watched").gauge().value()).isEqualTo(3);
    silent.writeOutbound(Unpooled.wrappedBuffer(statement()));
    busy.writeOutbound(Unpooled.wrappedBuffer(statement()));
    now.addAndGet(TIMEOUT / 2);
    busy.writeInbound(Unpooled.wrappedBuffer(answer(), 0, 8)); // still answering
    now.addAndGet(TIMEOUT / 2 + 1);
    ResponseWatchdog silentDog = silent.pipeline().get(ResponseWatchdog.class);
    silentDog.check();
    for (EmbeddedChannel c : List.of(silent, idle, busy)) {
      c.runPendingTasks(); // the peers close on their own event loops
    }

    assertThat(silent.isOpen()).isFalse();
    assertThat(idle.isOpen()).as("idle: nothing proves it alive").isFalse();
    assertThat(busy.isOpen()).as("busy: it owes answers, and its own watchdog judges it").isTrue();
    assertThat(registry.get("pingvas_pg_connections_unresponsive_total").tag("reason", "silent").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("pingvas_pg_connections_unresponsive_total").tag("reason", "suspect").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("pingvas_pg_connections_watched").gauge().value()).as("the busy one").isEqualTo(1);
  }
}
