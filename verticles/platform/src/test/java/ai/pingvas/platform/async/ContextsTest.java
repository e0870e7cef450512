package ai.pingvas.platform.async;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.platform.db.GroupCommit;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ContextsTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T on(Context context, Supplier<T> action) throws Exception {
    CompletableFuture<T> out = new CompletableFuture<>();
    context.runOnContext(v -> out.complete(action.get()));
    return out.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aJoinedFutureContinuesOnTheJoinersContextNotTheCreators() throws Exception {
    Context a = vertx.getOrCreateContext();
    Context b = vertx.getOrCreateContext();
    assertThat(a).isNotSameAs(b);
    Future<String> shared = on(a, () -> vertx.timer(100).map(v -> "keys"));

    CompletableFuture<Context> plain = new CompletableFuture<>();
    CompletableFuture<Context> relayed = new CompletableFuture<>();
    CompletableFuture<String> value = new CompletableFuture<>();
    on(b, () -> {
      shared.onComplete(ar -> plain.complete(Vertx.currentContext()));
      Contexts.onCaller(shared).onComplete(ar -> {
        value.complete(ar.result());
        relayed.complete(Vertx.currentContext());
      });
      return null;
    });
    assertThat(plain.get(10, TimeUnit.SECONDS)).as("the hazard: a plain listener runs on the creator's loop")
        .isSameAs(a);
    assertThat(relayed.get(10, TimeUnit.SECONDS)).isSameAs(b);
    assertThat(value.get(10, TimeUnit.SECONDS)).isEqualTo("keys");
  }

  @Test
  void aSingleFlightStartsOneFetchForItsJoinersAndAnswersEachOnItsLoop() throws Exception {
    Context a = vertx.getOrCreateContext();
    Context b = vertx.getOrCreateContext();
    SingleFlight<Integer> flight = new SingleFlight<>();
    java.util.concurrent.atomic.AtomicInteger starts = new java.util.concurrent.atomic.AtomicInteger();
    Supplier<Future<Integer>> fetch = () -> vertx.timer(100).map(v -> starts.incrementAndGet());
    CompletableFuture<Context> onA = new CompletableFuture<>();
    CompletableFuture<Context> onB = new CompletableFuture<>();
    CompletableFuture<Integer> valueB = new CompletableFuture<>();
    on(a, () -> flight.join(fetch).onComplete(ar -> onA.complete(Vertx.currentContext())));
    on(b, () -> {
      assertThat(flight.inProgress()).isNotNull();
      return flight.join(fetch).onComplete(ar -> {
        valueB.complete(ar.result());
        onB.complete(Vertx.currentContext());
      });
    });
    assertThat(onA.get(10, TimeUnit.SECONDS)).isSameAs(a);
    assertThat(onB.get(10, TimeUnit.SECONDS)).isSameAs(b);
    assertThat(valueB.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(flight.inProgress()).as("cleared once done").isNull();
    assertThat(on(b, () -> flight.join(fetch)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
        .as("a later join starts a new fetch").isEqualTo(2);
  }

  @Test
  void aWriterThatThrowsFailsItsBatchAndFreesTheSlotForTheNext() throws Exception {
    Context owner = vertx.getOrCreateContext();
    List<List<Integer>> batches = new CopyOnWriteArrayList<>();
    GroupCommit<Integer, Integer> commit = on(owner, () -> new GroupCommit<Integer, Integer>(items -> {
      batches.add(items);
      if (batches.size() == 1) {
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
