package ai.pingvas.generation.models;

import ai.pingvas.generation.http.SubmitCheck;
import ai.pingvas.generation.models.ModelRules.Verdict;
import ai.pingvas.generation.store.NewJob;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.protocol.LoraRef;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.util.List;

/**
 * Refuses jobs whose model is not a registered checkpoint ({@code 422 unknown_model}) or whose LoRAs
 * are unknown or made for another base ({@code 422 unknown_model} / {@code model_incompatible}),
 * from the replica's {@link ModelCatalog}. A name the copy lacks triggers one refresh before the
 * verdict, so a model registered a moment ago is accepted. When model-service cannot be reached the
 * last copy decides; with no copy at all (model-service down since this replica started) the job
 * passes unchecked, without waiting on model-service more than once per {@code miss-refresh-min},
 * and a worker refuses a model it cannot find later.
 */
public final class ModelSubmitCheck implements SubmitCheck {
  private final ModelCatalog catalog;
  private final Counter passed;
  private final Counter unverified;
  private final Counter unknown;
  private final Counter incompatible;

  public ModelSubmitCheck(ModelCatalog catalog, MeterRegistry registry) {
    this.catalog = catalog;
    String name = "pingvas_model_checks_total";
    String help = "submissions checked against the model registry, by outcome";
    this.passed = Counter.builder(name).description(help).tag("outcome", "passed").register(registry);
    this.unverified = Counter.builder(name).description(help).tag("outcome", "unverified").register(registry);
    this.unknown = Counter.builder(name).description(help).tag("outcome", ModelRules.UNKNOWN).register(registry);
    this.incompatible = Counter.builder(name).description(help).tag("outcome", ModelRules.INCOMPATIBLE)
        .register(registry);
  }

  @Override
  public Future<Runnable> check(Principal principal, NewJob job) {
    String model = job.params().model();
    List<String> loras = job.params().loras().stream().map(LoraRef::name).toList();
    ModelCatalog.Snapshot snapshot = catalog.snapshot();
    if (snapshot == null) {
      if (catalog.failedRecently()) {
        unverified.increment();
        return Future.succeededFuture(NOTHING);
      }
      return catalog.refresh().transform(ar -> {
        if (ar.failed()) {
          unverified.increment();
          return Future.succeededFuture(NOTHING);
        }
        return decide(ar.result(), model, loras);
      });
    }
    if (!ModelRules.check(snapshot.models(), model, loras).unknown()) {
      return decide(snapshot, model, loras);
    }
    return catalog.refreshOnMiss().transform(ar -> decide(ar.succeeded() ? ar.result() : snapshot, model, loras));
  }

  private Future<Runnable> decide(ModelCatalog.Snapshot snapshot, String model, List<String> loras) {
    Verdict verdict = ModelRules.check(snapshot.models(), model, loras);
    if (verdict.ok()) {
      passed.increment();
      return Future.succeededFuture(NOTHING);
    }
    (verdict.unknown() ? unknown : incompatible).increment();
    return Future.failedFuture(ApiException.unprocessable(verdict.code(), verdict.detail()));
  }
}
