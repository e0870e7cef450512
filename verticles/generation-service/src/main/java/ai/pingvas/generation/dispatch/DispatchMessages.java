package ai.pingvas.generation.dispatch;

import ai.pingvas.generation.domain.QueuedJob;
import ai.pingvas.generation.events.PositionBoard;
import ai.pingvas.generation.store.Claimed;
import ai.pingvas.platform.bus.LocalCodec;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;

/** Requests to the dispatcher on the local event bus, and its answers. */
public final class DispatchMessages {
  private DispatchMessages() {
  }

  /**
   * May the user queue {@code count} more jobs? Reserves them until enqueued or released. With a
   * {@code candidate} (one job, not stored yet) the dispatcher may instead place it on a worker at
   * once, when nothing else waits: see {@link Admission#workerId()}.
   */
  public record Admit(String userId, String tier, int count, QueuedJob candidate) {
  }

  /**
   * Admission verdict: {@code reason} set when refused. {@code workerId} set when the candidate was
   * placed: store it as dispatched to that worker, then report {@link Placed}.
   */
  public record Admission(boolean admitted, String code, String reason, long retryAfterSeconds, String workerId) {
    static Admission ok() {
      return new Admission(true, null, null, 0, null);
    }

    static Admission refused(String code, String reason, long retryAfterSeconds) {
      return new Admission(false, code, reason, retryAfterSeconds, null);
    }

    static Admission placed(String workerId) {
      return new Admission(true, null, null, 0, workerId);
    }
  }

  /**
   * The outcome of storing a job placed at admission: {@code claimed} is the stored dispatch, or null
   * when nothing was stored (the insert failed or the idempotency key was taken), which frees the slot.
   */
  public record Placed(String jobId, Claimed claimed) {
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

  /**
   * An event of the shared topic that changes the queue, as received: the dispatcher parses it only
   * if it has not applied that change itself (most events of this replica's own jobs it has).
   */
  public record QueueEvent(String jobId, int seq, String json) {
  }

  static void registerCodecs(Vertx vertx) {
    LocalCodec.register(vertx, QueueEvent.class);
    LocalCodec.register(vertx, Admit.class);
    LocalCodec.register(vertx, Admission.class);
    LocalCodec.register(vertx, Enqueued.class);
    LocalCodec.register(vertx, Places.class);
    LocalCodec.register(vertx, Release.class);
    LocalCodec.register(vertx, Placed.class);
    LocalCodec.register(vertx, Locate.class);
    LocalCodec.register(vertx, PositionBoard.Place.class);
    LocalCodec.register(vertx, Canceled.class);
    LocalCodec.register(vertx, DrainWorker.class);
    LocalCodec.register(vertx, WorkerSession.Frame.class);
    LocalCodec.register(vertx, WorkerSession.Closed.class);
  }
}
