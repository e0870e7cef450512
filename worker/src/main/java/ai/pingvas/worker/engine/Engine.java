package ai.pingvas.worker.engine;

import ai.pingvas.protocol.JobSpec;
import io.vertx.core.Future;
import java.util.List;

/** Something that turns a job into images: the procedural renderer or a co-located InvokeAI. */
public interface Engine {
  String name();

  /** Models currently loaded, least recently used first. */
  List<String> modelsLoaded();

  /** Renders every image of the job, reporting steps; fails with {@link EngineException}. */
  Future<List<RenderedImage>> generate(JobSpec job, StepListener listener, CancelSignal cancel);

  default Future<Void> close() {
    return Future.succeededFuture();
  }

  /** Receives progress: step 0 when the model is loaded and generation begins. */
  interface StepListener {
    void onStep(int step, int total, String previewDataUrl);
  }

  /** One finished image as PNG bytes. */
  record RenderedImage(int index, byte[] png, int width, int height, long seed) {
  }
}
