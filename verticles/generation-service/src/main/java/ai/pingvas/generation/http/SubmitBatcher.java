package ai.pingvas.generation.http;

import ai.pingvas.generation.store.JobStore;
import ai.pingvas.generation.store.NewJob;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;

/**
 * Group commit for submissions: while earlier batches are in flight, new submissions wait and go
 * together in one INSERT (one transaction, one fsync). The first submission of a quiet period is
 * written at once, so batching adds no latency when load is light. Confined to one event loop.
 */
final class SubmitBatcher {
  private static final int MAX_BATCH = 256;

  private final JobStore store;
  private final int maxInFlight;
  private final DistributionSummary batchSizes;
  private final List<NewJob> waiting = new ArrayList<>();
  private final List<Promise<JobStore.Inserted>> promises = new ArrayList<>();
  private int inFlight;

  SubmitBatcher(JobStore store, int maxInFlight, MeterRegistry registry) {
    this.store = store;
    this.maxInFlight = maxInFlight;
    this.batchSizes = DistributionSummary.builder("pingvas_submit_batch_size")
        .description("submissions committed per INSERT (group commit)").register(registry);
  }

  Future<JobStore.Inserted> submit(NewJob job) {
    Promise<JobStore.Inserted> promise = Promise.promise();
    waiting.add(job);
    promises.add(promise);
    if (inFlight < maxInFlight || waiting.size() >= MAX_BATCH) {
      flush();
    }
    return promise.future();
  }

  private void flush() {
    if (waiting.isEmpty()) {
      return;
    }
    int n = Math.min(MAX_BATCH, waiting.size());
    List<NewJob> batch = new ArrayList<>(waiting.subList(0, n));
    List<Promise<JobStore.Inserted>> batchPromises = new ArrayList<>(promises.subList(0, n));
    waiting.subList(0, n).clear();
    promises.subList(0, n).clear();
    inFlight++;
    batchSizes.record(n);
    store.insert(batch).onComplete(ar -> {
      inFlight--;
      if (ar.succeeded()) {
        for (int i = 0; i < n; i++) {
          batchPromises.get(i).complete(ar.result().get(i));
        }
      } else {
        batchPromises.forEach(p -> p.fail(ar.cause()));
      }
      if (!waiting.isEmpty()) {
        flush();
      }
    });
  }
}
