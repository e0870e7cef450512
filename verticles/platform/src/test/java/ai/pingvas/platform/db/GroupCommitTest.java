package ai.pingvas.platform.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GroupCommitTest {
  private final Vertx vertx = Vertx.vertx();
  private final Context loop = vertx.getOrCreateContext();
  /** The batches the writer was given, in order, and the promises that finish them. */
  private final List<List<Integer>> batches = new ArrayList<>();
  private final List<Promise<List<String>>> writes = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private Future<List<String>> write(List<Integer> batch) {
    batches.add(batch);
    Promise<List<String>> promise = Promise.promise();
    writes.add(promise);
    return promise.future();
  }

  private <T> T on(Callable<T> action) throws Exception {
    CompletableFuture<T> out = new CompletableFuture<>();
    loop.runOnContext(v -> {
      try {
        out.complete(action.call());
      } catch (Exception e) {
        out.completeExceptionally(e);
      }
    });
    return out.get(10, TimeUnit.SECONDS);
  }

  private void finish(int write, String... outcomes) throws Exception {
    on(() -> writes.get(write).tryComplete(List.of(outcomes)));
  }

  private static Future<List<String>> outcomes(List<Integer> batch) {
    return Future.succeededFuture(batch.stream().map(i -> "ok" + i).toList());
  }

  @Test
  void theFirstItemGoesAtOnceAndThoseArrivingMeanwhileShareTheNextWrite() throws Exception {
    GroupCommit<Integer, String> commit = on(() -> new GroupCommit<>(this::write, 100, 1, null));
    List<Future<String>> results = on(() -> {
      List<Future<String>> out = new ArrayList<>();
      for (int i = 1; i <= 4; i++) {
        out.add(commit.submit(i));
      }
      return out;
    });
    assertThat(batches).containsExactly(List.of(1));

    finish(0, "ok1");
    assertThat(batches).containsExactly(List.of(1), List.of(2, 3, 4));
    assertThat(results.get(0).result()).isEqualTo("ok1");
    assertThat(results.get(1).isComplete()).isFalse();

    finish(1, "ok2", "ok3", "ok4");
    assertThat(results).extracting(Future::result).containsExactly("ok1", "ok2", "ok3", "ok4");
  }

  @Test
  void respectsTheBatchSizeAndTheWritesInFlight() throws Exception {
    GroupCommit<Integer, String> commit = on(() -> new GroupCommit<>(this::write, 3, 2, null));
    on(() -> {
      for (int i = 1; i <= 9; i++) {
        commit.submit(i);
      }
      return null;
    });
    // two writes in flight: items 1 and 2 alone; a full batch (3) goes out even beyond the limit
    assertThat(batches).containsExactly(List.of(1), List.of(2), List.of(3, 4, 5), List.of(6, 7, 8));
    finish(0, "ok1");
    assertThat(batches).hasSize(5).last().isEqualTo(List.of(9));
  }

  @Test
  void aFailedOrThrowingWriterFailsItsBatchAndFreesTheSlot() throws Exception {
    int[] calls = {0};
    GroupCommit<Integer, String> commit = on(() -> new GroupCommit<Integer, String>(batch -> {
      calls[0]++;
      if (calls[0] == 1) {
        throw new IllegalStateException("pool closed");
      }
      if (calls[0] == 2) {
        return Future.succeededFuture(List.of()); // too few outcomes
      }
      return outcomes(batch);
    }, 100, 1, null));
    Future<String> thrown = on(() -> commit.submit(1));
    assertThat(thrown.cause()).hasMessage("pool closed");
    Future<String> short1 = on(() -> commit.submit(2));
    assertThat(short1.cause()).hasMessageContaining("0 outcomes for 1");
    Future<String> fine = on(() -> commit.submit(3));
    assertThat(fine.result()).isEqualTo("ok3");
  }

  @Test
  void itemsFromAnotherThreadAreBatchedOnTheOwnersLoop() throws Exception {
    GroupCommit<Integer, String> commit = on(() -> new GroupCommit<>(GroupCommitTest::outcomes, 100, 1, null));
    Context other = vertx.getOrCreateContext();
    CompletableFuture<Object[]> seen = new CompletableFuture<>();
    other.runOnContext(v -> commit.submit(5).onComplete(ar -> seen.complete(
        new Object[] {ar.result(), Vertx.currentContext()})));
    Object[] outcome = seen.get(10, TimeUnit.SECONDS);
    assertThat(outcome[0]).isEqualTo("ok5");
    assertThat(outcome[1]).as("the outcome comes back on the caller's loop").isSameAs(other);
  }
}
