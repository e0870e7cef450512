package ai.pingvas.platform.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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

  private static <T> T on(Context context, Supplier<T> action) throws Exception {
    CompletableFuture<T> out = new CompletableFuture<>();
    context.runOnContext(v -> out.complete(action.get()));
    return out.get(10, TimeUnit.SECONDS);
  }

  private void finish(int write, String... outcomes) throws Exception {
    on(loop, () -> writes.get(write).tryComplete(List.of(outcomes)));
  }

  private static Future<List<String>> outcomes(List<Integer> batch) {
    return Future.succeededFuture(batch.stream().map(i -> "ok" + i).toList());
  }

  @Test
  void theFirstItemGoesAtOnceAndThoseArrivingMeanwhileShareTheNextWrite() throws Exception {
    GroupCommit<Integer, String> commit = on(loop, () -> new GroupCommit<>(this::write, 100, 1, null));
    List<Future<String>> results = on(loop, () -> {
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
    GroupCommit<Integer, String> commit = on(loop, () -> new GroupCommit<>(this::write, 3, 2, null));
    on(loop, () -> {
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
  void aWriterReturningTooFewOutcomesFailsItsBatchAndFreesTheSlot() throws Exception {
    GroupCommit<Integer, String> commit = on(loop, () -> new GroupCommit<Integer, String>(
        batch -> batch.get(0) == 1 ? Future.succeededFuture(List.of()) : outcomes(batch), 100, 1, null));
    Future<String> short1 = on(loop, () -> commit.submit(1));
    assertThat(short1.cause()).hasMessageContaining("0 outcomes for 1");
    Future<String> fine = on(loop, () -> commit.submit(2));
    assertThat(fine.result()).isEqualTo("ok2");
  }

  @Test
  void aWriterThatThrowsFailsItsBatchAndFreesTheSlotForTheNext() throws Exception {
    Context owner = vertx.getOrCreateContext();
    List<List<Integer>> given = new CopyOnWriteArrayList<>();
    GroupCommit<Integer, Integer> commit = on(owner, () -> new GroupCommit<Integer, Integer>(items -> {
      given.add(items);
      if (given.size() == 1) {
        throw new IllegalArgumentException("bad item " + items.get(0));
      }
      return Future.succeededFuture(items);
    }, 16, 1, null));
    Future<Integer> failed = on(owner, () -> commit.submit(1));
    assertThat(failed.toCompletionStage().toCompletableFuture().handle((v, err) -> err)
        .get(10, TimeUnit.SECONDS)).hasMessageContaining("bad item 1");
    // with one batch in flight allowed, a leaked slot would leave this one waiting for 15 more items
    Integer next = on(owner, () -> commit.submit(2)).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertThat(next).isEqualTo(2);
  }

  @Test
  void aGroupCommitSubmittedFromAnotherLoopWritesOnItsOwnerAndAnswersTheCaller() throws Exception {
    Context owner = vertx.getOrCreateContext();
    Context other = vertx.getOrCreateContext();
    List<Context> writers = new CopyOnWriteArrayList<>();
    Promise<List<Integer>> firstWrite = Promise.promise();
    GroupCommit<Integer, Integer> commit = on(owner, () -> new GroupCommit<Integer, Integer>(items -> {
      writers.add(Vertx.currentContext());
      // the first batch stays in flight so later items queue behind it in the owner's lists
      return writers.size() == 1 ? firstWrite.future() : Future.succeededFuture(items.stream().map(i -> i * 10).toList());
    }, 16, 1, null));

    Future<Integer> first = on(owner, () -> commit.submit(1));
    CompletableFuture<Context> answeredOn = new CompletableFuture<>();
    CompletableFuture<Integer> answer = new CompletableFuture<>();
    for (int i = 2; i <= 50; i++) {
      int item = i;
      Context from = item % 2 == 0 ? other : owner;
      on(from, () -> commit.submit(item).onSuccess(r -> {
        if (item == 50) {
          answer.complete(r);
          answeredOn.complete(Vertx.currentContext());
        }
      }));
    }
    on(owner, () -> firstWrite.tryComplete(List.of(10)));
    assertThat(answer.get(10, TimeUnit.SECONDS)).isEqualTo(500);
    assertThat(answeredOn.get(10, TimeUnit.SECONDS)).isSameAs(other);
    assertThat(first.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo(10);
    assertThat(writers).as("every batch written from the owner's loop").isNotEmpty().allMatch(c -> c == owner);
  }
}
