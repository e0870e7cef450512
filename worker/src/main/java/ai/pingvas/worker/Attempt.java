package ai.pingvas.worker;

import ai.pingvas.protocol.JobSpec;
import ai.pingvas.protocol.RunningJob;
import ai.pingvas.protocol.UploadSlot;
import ai.pingvas.protocol.WorkerMessage;
import ai.pingvas.worker.engine.CancelSignal;
import java.util.List;

/** One attempt this worker runs, from assign until its result or failure reached the router. */
final class Attempt {
  final JobSpec job;
  final List<UploadSlot> upload;
  final CancelSignal cancel = new CancelSignal();
  final long startedNanos = System.nanoTime();
  /** The engine did not hold the job's model when the attempt started: it loads it first. */
  final boolean cold;
  /** Start to first step of a cold attempt (the model's load, as the router learns it); -1 until then. */
  long loadMs = -1;
  /** The final report, kept until the router has it (sent again after a reconnect if adopted). */
  WorkerMessage report;

  Attempt(JobSpec job, List<UploadSlot> upload, boolean cold) {
    this.job = job;
    this.upload = upload;
    this.cold = cold;
  }

  /** A step was reported: the first one of a cold attempt ends its model load. */
  void stepped() {
    if (cold && loadMs < 0) {
      loadMs = (System.nanoTime() - startedNanos) / 1_000_000;
    }
  }

  /**
   * What the result reports as the model's load time: null (not reported) when the engine held the
   * model, or when no step came to mark the load's end.
   */
  Long reportedLoadMs() {
    return cold && loadMs >= 0 ? loadMs : null;
  }

  RunningJob ref() {
    return new RunningJob(job.jobId(), job.attempt());
  }
}
