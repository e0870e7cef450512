package ai.pingvas.worker.engine;

import ai.pingvas.protocol.JobSpec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The built-in engine: no GPU, real PNGs. It "loads" models into an LRU set (optionally taking
 * {@code modelLoadTime}), renders {@link ProceduralArt} off the event loop, then walks through the
 * job's steps at {@code stepTime} each, sending previews, and stops at the next step when canceled.
 *
 * <p>For failure drills it honours one prompt directive: a prompt starting with
 * {@code !fail:<code>} fails every attempt at step 1 with that failure code, and
 * {@code !fail@<n>:<code>} fails attempts 1..n only (so a retry succeeds). Deterministic codes
 * ({@code bad_request}, {@code unknown_model}, {@code invalid_params}) are reported not retryable.
 */
public final class ProceduralEngine implements Engine {
  private final Vertx vertx;
  private final Duration stepTime;
  private final Duration modelLoadTime;
  private final ModelLru models;
  private final ModelSizes sizes;
  private final int previewEvery;
  private static final java.util.regex.Pattern FAIL = java.util.regex.Pattern.compile("^!fail(?:@(\\d+))?:([a-z_]+)");
  private static final java.util.Set<String> DETERMINISTIC = java.util.Set.of("bad_request", "unknown_model",
      "invalid_params");

  public ProceduralEngine(Vertx vertx, Duration stepTime, Duration modelLoadTime, ModelLru models, ModelSizes sizes,
      int previewEvery) {
    this.vertx = vertx;
    this.stepTime = stepTime;
    this.modelLoadTime = modelLoadTime;
    this.models = models;
    this.sizes = sizes;
    this.previewEvery = previewEvery;
  }

  @Override
  public String name() {
    return "procedural";
  }

  @Override
  public List<String> modelsLoaded() {
    return models.models();
  }

  @Override
  public Future<List<RenderedImage>> generate(JobSpec job, StepListener listener, CancelSignal cancel) {
    return loadModel(job.model())
        .compose(v -> {
          cancel.check();
          listener.onStep(0, job.steps(), null);
          return vertx.executeBlocking(() -> render(job), false);
        })
        .compose(rendered -> walkSteps(job, listener, cancel, rendered.thumbnail()).map(v -> rendered.images()));
  }

  private record Rendered(List<RenderedImage> images, BufferedImage thumbnail) {
  }

  private Rendered render(JobSpec job) {
    List<RenderedImage> images = new ArrayList<>(job.count());
    BufferedImage thumbnail = null;
    for (int i = 0; i < job.count(); i++) {
      long seed = job.seed() + i;
      BufferedImage image = ProceduralArt.render(job.prompt(), seed, job.width(), job.height());
      if (i == 0) {
        thumbnail = ProceduralArt.thumbnail(image, 96);
      }
      images.add(new RenderedImage(i, ProceduralArt.png(image), job.width(), job.height(), seed));
    }
    return new Rendered(images, thumbnail);
  }

  private Future<Void> loadModel(String model) {
    if (models.contains(model)) {
      models.use(model, sizes.of(model));
      return Future.succeededFuture();
    }
    Future<Void> loading = modelLoadTime.isZero() ? Future.succeededFuture()
        : vertx.timer(modelLoadTime.toMillis()).mapEmpty();
    return loading.onSuccess(v -> models.use(model, sizes.of(model)));
  }

  private Future<Void> walkSteps(JobSpec job, StepListener listener, CancelSignal cancel, BufferedImage thumb) {
    Promise<Void> done = Promise.promise();
    step(1, job, listener, cancel, thumb, done);
    return done.future();
  }

  /** The failure a {@code !fail} prompt directive asks for on this attempt, if any. */
  static EngineException drilledFailure(JobSpec job) {
    java.util.regex.Matcher m = FAIL.matcher(job.prompt());
    if (!m.find()) {
      return null;
    }
    int upTo = m.group(1) == null ? Integer.MAX_VALUE : Integer.parseInt(m.group(1));
    if (job.attempt() > upTo) {
      return null;
    }
    String code = m.group(2);
    return new EngineException(code, "drill: the prompt asked attempt " + job.attempt() + " to fail with " + code,
        !DETERMINISTIC.contains(code));
  }

  private void step(int step, JobSpec job, StepListener listener, CancelSignal cancel, BufferedImage thumb,
      Promise<Void> done) {
    if (step > job.steps()) {
      done.complete();
      return;
    }
    vertx.setTimer(Math.max(1, stepTime.toMillis()), id -> {
      if (cancel.canceled()) {
        done.fail(EngineException.canceled());
        return;
      }
      EngineException drill = step == 1 ? drilledFailure(job) : null;
      if (drill != null) {
        done.fail(drill);
        return;
      }
      boolean preview = previewEvery > 0 && (step % previewEvery == 0) && step < job.steps();
      if (preview) {
        vertx.executeBlocking(() -> ProceduralArt.preview(thumb, (double) step / job.steps(), job.seed() + step),
            false).onComplete(ar -> {
              listener.onStep(step, job.steps(), ar.succeeded() ? ar.result() : null);
              step(step + 1, job, listener, cancel, thumb, done);
            });
      } else {
        listener.onStep(step, job.steps(), null);
        step(step + 1, job, listener, cancel, thumb, done);
      }
    });
  }
}
