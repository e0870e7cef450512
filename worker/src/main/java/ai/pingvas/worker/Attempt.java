package ai.pingvas.worker;

import ai.pingvas.protocol.JobSpec;
import ai.pingvas.protocol.RunningJob;
import ai.pingvas.protocol.UploadSlot;
import ai.pingvas.protocol.WorkerMessage;
import ai.pingvas.worker.engine.CancelSignal;
import java.util.List;

/**
 * One attempt this worker holds, from assign until its result or failure reached the router. It may
 * wait in the worker's queue before it starts (see {@link #start}).
 */
final class Attempt {
  final JobSpec job;
  final List<UploadSlot> upload;
  final CancelSignal cancel = new CancelSignal();
  /** When the engine took it (not when it was assigned: queue time is neither load nor run). */
  private long startedNanos = -1;
  /** The engine did not hold the job's model when the attempt started: it loads it first. */
  private boolean cold;
  /** Start to first step of a cold attempt (the model's load, as the router learns it); -1 until then. */
  private long loadMs = -1;
  /** Its engine slot was given up (engine work ended, or the router canceled it and it winds down). */
  private boolean slotFreed;
  /** The final report, kept until the router has it (sent again after a reconnect if adopted). */
  WorkerMessage report;

  Attempt(JobSpec job, List<UploadSlot> upload) {
    this.job = job;
    this.upload = upload;
  }

  /** The engine takes it now; {@code cold}: it lacks the job's model. */
  void start(boolean cold) {
    this.cold = cold;
    this.startedNanos = System.nanoTime();
  }

  /** Gives up its engine slot; true only the first time, and only once started. */
  boolean freeSlot() {
    if (!started() || slotFreed) {
      return false;
    }
    slotFreed = true;
    return true;
  }

  boolean started() {
    return startedNanos >= 0;
  }

  /** Milliseconds since the engine took it. */
  long runningMs() {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  long startedNanos() {
    return startedNanos;
  }

  /** A step was reported: the first one of a cold attempt ends its model load. */
  void stepped() {
    if (cold && loadMs < 0 && started()) {
      loadMs = runningMs();
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
