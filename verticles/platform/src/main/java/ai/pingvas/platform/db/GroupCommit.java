package ai.pingvas.platform.db;

import ai.pingvas.platform.async.Contexts;
import io.micrometer.core.instrument.DistributionSummary;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Group commit: while earlier batches are being written, new items wait and then go together in one
 * statement (one transaction, one fsync). The first item of a quiet period is written at once, so
 * batching adds no latency under light load and raises throughput under heavy load.
 * Confined to one event loop (not thread-safe).
 *
 * @param <I> what is written
 * @param <O> the per-item outcome (the writer returns one per input, in order)
 */
public final class GroupCommit<I, O> {
  private final Function<List<I>, Future<List<O>>> writer;
  private final int maxBatch;
  private final int maxInFlight;
  private final DistributionSummary batchSizes;
  private final List<I> waiting = new ArrayList<>();
  private final List<Promise<O>> promises = new ArrayList<>();
  private int inFlight;
  /** The event loop that owns the batch lists (the one that built this), if any. */
  private final Context owner = Vertx.currentContext();

  public GroupCommit(Function<List<I>, Future<List<O>>> writer, int maxBatch, int maxInFlight,
      DistributionSummary batchSizes) {
    this.writer = writer;
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
    this.batchSizes = batchSizes;
  }

  /**
   * Queues an item for the next batch. Called from another thread than the owner's, the item is
   * handed to the owner's event loop (the lists are not thread-safe) and the outcome comes back on
   * the caller's.
   */
  public Future<O> submit(I item) {
    if (owner != null && Vertx.currentContext() != owner) {
      Promise<O> relayed = Promise.promise();
      owner.runOnContext(v -> submit(item).onComplete(relayed));
      return Contexts.onCaller(relayed.future());
    }
    Promise<O> promise = Promise.promise();
    waiting.add(item);
    promises.add(promise);
    if (inFlight < maxInFlight || waiting.size() >= maxBatch) {
      flush();
    }
    return promise.future();
  }

  private void flush() {
    if (waiting.isEmpty()) {
      return;
    }
    int n = Math.min(maxBatch, waiting.size());
    List<I> batch = new ArrayList<>(waiting.subList(0, n));
    List<Promise<O>> batchPromises = new ArrayList<>(promises.subList(0, n));
    waiting.subList(0, n).clear();
    promises.subList(0, n).clear();
    inFlight++;
    if (batchSizes != null) {
      batchSizes.record(n);
    }
    Future<List<O>> written;
    try {
      written = writer.apply(batch);
    } catch (RuntimeException e) {
      // a writer that throws instead of failing its future must not leave the slot taken for good
      written = Future.failedFuture(e);
    }
    written.onComplete(ar -> {
      inFlight--;
      if (ar.succeeded() && ar.result().size() == n) {
        for (int i = 0; i < n; i++) {
          batchPromises.get(i).complete(ar.result().get(i));
        }
      } else {
        Throwable cause = ar.failed() ? ar.cause()
            : new IllegalStateException("writer returned " + ar.result().size() + " outcomes for " + n + " items");
        batchPromises.forEach(p -> p.fail(cause));
      }
      if (!waiting.isEmpty()) {
        flush();
      }
    });
  }
}
