package ai.pingvas.cli;

import com.google.gson.JsonObject;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Follows one job to its end from the event stream, showing its progress. When no event of the job
 * arrives for a while (a stream that cannot reconnect, a server without resume) it asks for the job
 * itself, so a follower never hangs on a finished job.
 */
final class JobFollower {
  private static final Duration QUIET_CHECK = Duration.ofSeconds(5);
  private final ApiClient api;
  private final EventStream stream;
  private final ProgressDisplay display;

  JobFollower(ApiClient api, EventStream stream, ProgressDisplay display) {
    this.api = api;
    this.stream = stream;
    this.display = display;
  }

  /** Blocks until the job ends; returns the finished job as GET returns it. */
  JsonObject follow(JsonObject job, Consumer<JsonObject> onEvent) {
    JobState state = new JobState(job);
    stream.track(state.id, 0);
    display.show(state);
    long lastNews = System.nanoTime();
    try {
      while (!state.terminal()) {
        JsonObject event = stream.poll(Duration.ofMillis(500));
        if (event != null && state.id.equals(Output.string(event, "job_id"))) {
          state.apply(Output.string(event, "type", ""), event);
          onEvent.accept(event);
          display.show(state);
          lastNews = System.nanoTime();
        } else if (System.nanoTime() - lastNews > QUIET_CHECK.toNanos()) {
          JsonObject current = api.get("/v1/generations/" + state.id);
          String status = Output.string(current, "status", "");
          if (JobState.TERMINAL.contains(status) || !status.equals(state.status)) {
            state.apply(current);
            display.show(state);
          }
          lastNews = System.nanoTime();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(Exit.SERVER, "interrupted");
    } finally {
      display.done();
    }
    return api.get("/v1/generations/" + state.id);
  }
}
