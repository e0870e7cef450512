package ai.pingvas.platform.async;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.CompletableFuture;
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
}
