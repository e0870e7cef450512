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
  /** The final report, kept until the router has it (sent again after a reconnect if adopted). */
  WorkerMessage report;

  Attempt(JobSpec job, List<UploadSlot> upload) {
    this.job = job;
    this.upload = upload;
  }

  RunningJob ref() {
    return new RunningJob(job.jobId(), job.attempt());
  }
}
