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
 */
public final class ProceduralEngine implements Engine {
  private final Vertx vertx;
  private final Duration stepTime;
  private final Duration modelLoadTime;
  private final ModelLru models;
  private final ModelSizes sizes;
  private final int previewEvery;

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
