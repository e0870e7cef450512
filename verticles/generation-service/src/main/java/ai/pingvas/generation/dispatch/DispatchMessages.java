package ai.pingvas.generation.dispatch;

import ai.pingvas.generation.domain.QueuedJob;
import ai.pingvas.generation.events.PositionBoard;
import ai.pingvas.platform.bus.LocalCodec;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;

/** Requests to the dispatcher on the local event bus, and its answers. */
public final class DispatchMessages {
  private DispatchMessages() {
  }

  /** May the user queue {@code count} more jobs? Reserves them until enqueued or released. */
  public record Admit(String userId, String tier, int count) {
  }

  /** Admission verdict: {@code reason} set when refused. */
  public record Admission(boolean admitted, String code, String reason, long retryAfterSeconds) {
    static Admission ok() {
      return new Admission(true, null, null, 0);
    }
  }

  /** Jobs committed as queued on this replica; {@code reserved} admissions are consumed. */
  public record Enqueued(String userId, int reserved, List<QueuedJob> jobs) {
  }

  /** Positions of the enqueued jobs (job id to place). */
  public record Places(Map<String, PositionBoard.Place> places) {
  }

  /** Admissions reserved but not used (the insert failed or was a replay). */
  public record Release(String userId, int count) {
  }

  /** Where is this queued job? Answered with a {@link PositionBoard.Place} or null. */
  public record Locate(String jobId) {
  }

  /** A job was canceled through this replica's API: stop its worker now. */
  public record Canceled(String jobId, int attempt) {
  }

  /** Operator action: stop sending work to a worker and let it finish and exit. */
  public record DrainWorker(String workerId, String reason) {
  }

  static void registerCodecs(Vertx vertx) {
    LocalCodec.register(vertx, Admit.class);
    LocalCodec.register(vertx, Admission.class);
    LocalCodec.register(vertx, Enqueued.class);
    LocalCodec.register(vertx, Places.class);
    LocalCodec.register(vertx, Release.class);
    LocalCodec.register(vertx, Locate.class);
    LocalCodec.register(vertx, PositionBoard.Place.class);
    LocalCodec.register(vertx, Canceled.class);
    LocalCodec.register(vertx, DrainWorker.class);
    LocalCodec.register(vertx, WorkerSession.Frame.class);
    LocalCodec.register(vertx, WorkerSession.Closed.class);
  }
}
