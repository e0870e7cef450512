package ai.pingvas.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Submits generations over HTTP like real clients: closed loop (N clients, each submitting as
 * soon as its last answer came) or open loop (a fixed rate, whatever the answers). Every body
 * carries its send time in the prompt so the simulated workers can measure submit-to-assign.
 */
final class LoadGen implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
  private final HttpClient client;
  final AtomicLong accepted = new AtomicLong();
  final AtomicLong rejected = new AtomicLong();
  final AtomicLong errors = new AtomicLong();
  final Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
  final Histogram responseMicros = new ConcurrentHistogram(60_000_000L, 3);
  final List<String> acceptedIds = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
  private volatile boolean keepIds;

  LoadGen(int connections) {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setPipelining(false)
        .setIdleTimeout(60), new PoolOptions().setHttp1MaxSize(connections));
  }

  void keepAcceptedIds(boolean keep) {
    keepIds = keep;
  }

  /** A job body for a user and model; {@code steps} only matters to simulated run time. */
  static String body(String user, String model, int steps) {
    return new JsonObject().put("model", model).put("prompt", "bench t=" + FleetSim.nowMicros() + " u=" + user)
        .put("steps", steps).put("width", 512).put("height", 512).encode();
  }

  Future<Void> submit(String baseUrl, String key, String body) {
    long sent = System.nanoTime();
    return client.request(new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(baseUrl + "/v1/generations")
            .putHeader("Authorization", "Bearer " + key).putHeader("Content-Type", "application/json"))
        .compose(req -> req.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().map(b -> {
          responseMicros.recordValue(Math.min((System.nanoTime() - sent) / 1_000, 60_000_000L));
          statuses.computeIfAbsent(resp.statusCode(), s -> new AtomicLong()).incrementAndGet();
          if (resp.statusCode() == 202) {
            accepted.incrementAndGet();
            if (keepIds) {
              acceptedIds.add(new JsonObject(b).getString("id"));
            }
          } else {
            rejected.incrementAndGet();
          }
          return (Void) null;
        }))
        // a submission whose outcome never arrives fails after 60 s and counts as an error instead
        // of stalling its client: in two capacity runs one of 101,000 never completed in this
        // client although the router had answered every one (202s counted, none in flight, no
        // unread bytes on the connection)
        .timeout(60, TimeUnit.SECONDS)
        .recover(err -> {
          errors.incrementAndGet();
          return Future.succeededFuture();
        });
  }

  /** N clients submitting back-to-back until the deadline. */
  void closedLoop(int clients, long durationMs, Supplier<String> target, Supplier<String> key,
      Supplier<String> body) throws InterruptedException {
    long deadline = System.currentTimeMillis() + durationMs;
    CountDownLatch done = new CountDownLatch(clients);
    for (int i = 0; i < clients; i++) {
      vertx.runOnContext(v -> loop(deadline, target, key, body, done));
    }
    done.await(durationMs + 60_000, TimeUnit.MILLISECONDS);
  }

  private void loop(long deadline, Supplier<String> target, Supplier<String> key, Supplier<String> body,
      CountDownLatch done) {
    if (System.currentTimeMillis() >= deadline) {
      done.countDown();
      return;
    }
    submit(target.get(), key.get(), body.get()).onComplete(ar -> loop(deadline, target, key, body, done));
  }

  /**
   * Submissions {@code next}..{@code n-1} by {@code clients} back-to-back clients, each on this load
   * generator's event loop (as {@link #closedLoop}); returns when all have an outcome.
   */
  void submitEach(int clients, int n, AtomicInteger next, String target, IntFunction<String> key,
      IntFunction<String> body) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(clients);
    for (int i = 0; i < clients; i++) {
      vertx.runOnContext(v -> submitNext(n, next, target, key, body, done));
    }
    done.await();
  }

  private void submitNext(int n, AtomicInteger next, String target, IntFunction<String> key,
      IntFunction<String> body, CountDownLatch done) {
    int i = next.getAndIncrement();
    if (i >= n) {
      done.countDown();
      return;
    }
    submit(target, key.apply(i), body.apply(i)).onComplete(ar -> submitNext(n, next, target, key, body, done));
  }

  /** A fixed submission rate (jobs per second) for a duration, regardless of answers. */
  void openLoop(double perSecond, long durationMs, Supplier<String> target, Supplier<String> key,
      Supplier<String> body) throws InterruptedException {
    long start = System.nanoTime();
    long total = (long) (perSecond * durationMs / 1000.0);
    AtomicLong sent = new AtomicLong();
    AtomicBoolean finished = new AtomicBoolean();
    CountDownLatch done = new CountDownLatch(1);
    vertx.setPeriodic(1, id -> {
      long due = Math.min(total, (long) ((System.nanoTime() - start) / 1e9 * perSecond));
      while (sent.get() < due) {
        sent.incrementAndGet();
        submit(target.get(), key.get(), body.get());
      }
      if (sent.get() >= total && finished.compareAndSet(false, true)) {
        vertx.cancelTimer(id);
        done.countDown();
      }
    });
    done.await(durationMs + 60_000, TimeUnit.MILLISECONDS);
    BenchEnv.sleep(500);
  }

  @Override
  public void close() {
    client.close();
    vertx.close();
  }
}
