package ai.pingvas.generation.store;

import ai.pingvas.generation.domain.Job;
import ai.pingvas.generation.domain.JobStatus;
import ai.pingvas.generation.domain.QueuedJob;
import ai.pingvas.protocol.RunningJob;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import java.time.Duration;
import java.util.List;

/**
 * Durable job state. Every method that changes a job writes the job's event to the outbox in the
 * same transaction, and changes of an attempt are fenced by its attempt number: a late message from
 * an attempt that was already re-queued, canceled or finished changes nothing.
 */
public interface JobStore {

  /** An inserted job, or the job that already holds the idempotency key ({@code created=false}). */
  record Inserted(Job job, boolean created) {
  }

  /**
   * A job holding a worker slot (dispatched or running) as loaded at start, for rebuilding running
   * counts; {@code seq} is that of its last event.
   */
  record ActiveJob(String jobId, String userId, String tier, String routerId, String workerId, int seq) {
  }

  Future<List<Inserted>> insert(List<NewJob> jobs);

  Future<Job> findByIdempotencyKey(String userId, String key);

  /** The request hash stored with a job's idempotency key (null without one). */
  Future<byte[]> requestHash(String jobId);

  /** The job if it exists and belongs to the user, else null. */
  Future<Job> get(String userId, String jobId);

  /** The user's jobs among {@code jobIds} (unknown ids and other users' jobs left out), in one lookup. */
  Future<List<Job>> getAll(String userId, List<String> jobIds);

  Future<JobPage> list(String userId, JobStatus status, String cursor, int limit);

  /** Cancels a queued or active job; null if not found, the unchanged job if already finished. */
  Future<Transition> cancel(String userId, String jobId);

  /** Dispatches the jobs still queued to the given workers; returns those this replica won. */
  Future<List<Claimed>> claim(String routerId, List<String> jobIds, List<String> workerIds);

  /** Puts claimed jobs back to queued after a failed assignment (attempt not counted). */
  Future<List<Transition>> unclaim(List<String> jobIds, List<Integer> attempts);

  /**
   * After a claim whose outcome is unknown (it failed, but may have committed before the connection
   * broke): puts back to queued, attempt not counted, the jobs still dispatched by this router to
   * the workers it meant, which none of them was ever sent. Returns the ids it put back.
   */
  Future<List<String>> unclaimUndelivered(String routerId, List<String> jobIds, List<String> workerIds);

  Future<Transition> progress(String jobId, int attempt, int step, int total, String preview);

  /** A worker's verified result for an attempt. */
  record Success(String jobId, int attempt, JsonArray images) {
  }

  /** Marks attempts succeeded in one transaction; one transition per input, refused if fenced. */
  Future<List<Transition>> succeed(List<Success> results);

  /** Ends an attempt in failure: re-queued after {@code backoff} if retryable and attempts remain. */
  Future<Transition> failAttempt(String jobId, int attempt, String code, String message, boolean retryable,
      Backoff backoff);

  /** A worker is gone: each of its active jobs on this replica is re-queued or failed. */
  Future<List<Transition>> releaseWorker(String routerId, String workerId, String code, String message,
      Backoff backoff);

  /** A reconnecting worker's running attempts that this replica takes over (others must stop). */
  Future<List<Claimed>> adopt(String routerId, String workerId, List<RunningJob> running);

  /** A router replica with a live lease and where the others can reach it. */
  record Replica(String id, String url) {
  }

  Future<Void> renewRouterLease(String routerId, Duration lease, String url);

  Future<List<Replica>> liveRouters();

  /** The most recently failed jobs of all users (operator view). */
  Future<List<Job>> recentFailures(int limit);

  /** Any user's job (operator actions), or null. */
  Future<Job> getAny(String jobId);

  /** Puts failed jobs back in the queue with {@code attempts} more attempts; returns those re-queued. */
  Future<List<String>> requeueFailed(List<String> jobIds, int attempts);

  /** Re-queues (or fails) jobs held by other replicas whose lease lapsed. */
  Future<List<Transition>> reapLapsedRouters(String self, Backoff backoff);

  /** Fails jobs queued longer than the TTL with {@code queue_timeout}. */
  Future<List<Transition>> expireQueued(Duration ttl);

  /** Ends attempts of this replica running longer than the execution timeout. */
  Future<List<Transition>> expireRunning(String routerId, Duration timeout, Backoff backoff);

  Future<List<QueuedJob>> loadQueued();

  Future<List<ActiveJob>> loadActive();
}
