package ai.pingvas.generation.dispatch;

import ai.pingvas.generation.dispatch.DispatchMessages.Admission;
import ai.pingvas.generation.domain.Assignment;
import ai.pingvas.generation.domain.DispatchPolicy;
import ai.pingvas.generation.domain.FairQueue;
import ai.pingvas.generation.domain.Fleet;
import ai.pingvas.generation.domain.JobEvent;
import ai.pingvas.generation.domain.JobParams;
import ai.pingvas.generation.domain.QueuedJob;
import ai.pingvas.generation.domain.SchedulerSettings;
import ai.pingvas.generation.domain.Tier;
import ai.pingvas.generation.domain.WorkerView;
import ai.pingvas.generation.events.PositionBoard;
import ai.pingvas.generation.events.StreamHub;
import ai.pingvas.generation.models.ModelCatalog;
import ai.pingvas.generation.store.Claimed;
import ai.pingvas.generation.store.JobStore;
import ai.pingvas.generation.store.Transition;
import ai.pingvas.platform.db.GroupCommit;
import ai.pingvas.protocol.ImageOutput;
import ai.pingvas.protocol.JobSpec;
import ai.pingvas.protocol.LoraRef;
import ai.pingvas.protocol.RouterMessage;
import ai.pingvas.protocol.RunningJob;
import ai.pingvas.protocol.UploadSlot;
import ai.pingvas.protocol.WorkerMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's scheduling state machine, confined to the dispatcher verticle's event loop: the
 * shared queue (mirrored from Postgres and Kafka), this replica's workers, and the attempts they
 * run. It decides with {@link DispatchPolicy}, claims in Postgres (conditional, so replicas never
 * double-dispatch), then sends {@code assign}. Worker messages are fenced by attempt number.
 */
final class Dispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
  private static final int SEEN_MAX = 300_000;
  /** Longest a stopping replica waits for a worker to hand back the jobs revoked from its queue. */
  private static final long REVOKE_WAIT_MS = 2_000;
  private static final String RESTARTING = "router restarting; reconnect to another replica";
  private static final int POSITIONS_PER_USER = 50;
  /** Failure codes of a worker handing back an attempt it never started. */
  private static final Set<String> HANDED_BACK = Set.of("revoked", "worker_draining");

  private final Vertx vertx;
  /** The dispatcher's event loop (it is created in its verticle's start): all its state lives there. */
  private final Context context;
  private final DispatchSettings settings;
  private final JobStore store;
  private final UploadSigner signer;
  /** The registry's copy, for where a model the worker lacks can be installed from. */
  private final ModelCatalog models;
  private final GalleryClient gallery;
  private final StreamHub hub;
  private final PositionBoard board;
  private final DispatchMetrics metrics;
  private final DispatchPolicy policy;
  private final FairQueue queue;
  /** Results are recorded in groups (one transaction for all that arrive while one is written). */
  private final GroupCommit<JobStore.Success, Transition> results;
  private final Fleet fleet = new Fleet();
  private final Map<String, Link> links = new HashMap<>();
  private final Map<String, Inflight> inflight = new HashMap<>();
  /** Jobs claimed ahead for a busy worker, held here until its slot frees (see {@link WorkerView#nextJob}). */
  private final Map<String, Held> held = new HashMap<>();
  private long lookaheadTimer = -1;
  private long lookaheadAt = Long.MAX_VALUE;
  private int unclaiming;
  /** Attempts whose outcome (result or failure) is being written, retries included. */
  private final Set<Inflight> recording = new HashSet<>();
  /** Jobs decided here whose claim has not come back yet (waiting for a round, or in one). */
  private final Set<String> claimPending = new HashSet<>();
  /**
   * Of those, the jobs another replica was seen dispatching meanwhile: its event counted them as
   * running (our decision had already), and that count stands when our claim comes back lost.
   */
  private final Set<String> claimedElsewhere = new HashSet<>();
  /** Jobs placed on a worker at admission whose insert has not reported back yet. */
  private final Map<String, Assignment> placing = new HashMap<>();
  private final Map<String, Integer> pending = new HashMap<>();
  private int pendingTotal;
  private final Map<String, Integer> seen = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
      return size() > SEEN_MAX;
    }
  };
  /** Claim rounds in flight: a few overlap so dispatch is not bound by one round's commit latency. */
  private static final int MAX_CLAIMS_IN_FLIGHT = 4;
  private int claiming;
  /**
   * Decisions waiting for a claim round while {@code MAX_CLAIMS_IN_FLIGHT} are out: the policy decides
   * as soon as the queue or the fleet changes, so the queue holds only jobs no worker can take now
   * (and a submission arriving while every waiting job already has its worker can be placed at
   * admission); the next round claims them together.
   */
  private final List<Assignment> awaitingClaim = new ArrayList<>();
  private boolean scheduleRequested;
  private boolean stopping;
  private long retryTimer = -1;

  /** A worker connected to this replica. */
  private static final class Link {
    final WorkerSession session;
    final WorkerView view;
    String gpu = "";
    long lastSeenMs;
    long graceTimer = -1;
    boolean connected = true;
    /** Jobs the worker takes beyond its slots (hello's queue): a next job is sent to it at once. */
    int queue;

    Link(WorkerSession session, WorkerView view, long now) {
      this.session = session;
      this.view = view;
      this.lastSeenMs = now;
    }
  }

  /** A job claimed ahead for a busy worker; sent when the worker's slot frees. */
  private record Held(Assignment assignment, Claimed claimed, long timer) {
  }

  /** An attempt running on one of this replica's workers. */
  private static final class Inflight {
    final String jobId;
    final String userId;
    final String workerId;
    final int attempt;
    final int total;
    /** The claim it runs under (handed back unused if the worker returns it unstarted). */
    final Claimed claimed;
    /** Sent ahead into the worker's queue (before its slot freed): handed back unused if never started. */
    boolean sentAhead;
    /** Sent ahead into the worker's queue: revoked if still not its turn when this fires (-1: none). */
    long aheadTimer = -1;
    /** The attempt's model: its load time is learned from the worker's result when it had to load it. */
    final String model;
    /** The policy sent this attempt to a worker it believed lacked the model. */
    final boolean expectedCold;
    boolean started;
    long firstProgressMs;
    int firstProgressStep;
    boolean persisting;
    long lastPersistMs;
    WorkerMessage.Progress pendingProgress;
    long flushTimer = -1;
    boolean finishing;

    Inflight(Claimed claimed, String workerId, boolean expectedCold) {
      this.jobId = claimed.jobId();
      this.userId = claimed.userId();
      this.workerId = workerId;
      this.attempt = claimed.attempt();
      this.claimed = claimed;
      this.total = claimed.params().steps();
      this.model = claimed.params().model();
      this.expectedCold = expectedCold;
    }
  }

  Dispatcher(Vertx vertx, DispatchSettings settings, JobStore store, UploadSigner signer, GalleryClient gallery,
      StreamHub hub, PositionBoard board, DispatchMetrics metrics, DispatchPolicy policy, ModelCatalog models) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.settings = settings;
    this.store = store;
    this.signer = signer;
    this.gallery = gallery;
    this.hub = hub;
    this.board = board;
    this.metrics = metrics;
    this.policy = policy;
    this.models = models;
    this.queue = new FairQueue(settings.tiers());
    this.results = new GroupCommit<>(store::succeed, 256, settings.resultsInFlight(), null);
  }

  // ---- start-up ---------------------------------------------------------------------------

  /** Loads the shared queue and running counts from Postgres. */
  Future<Void> load() {
    return store.loadQueued().compose(jobs -> {
      long now = System.currentTimeMillis();
      jobs.forEach(job -> queue.add(job, now));
      return store.loadActive();
    }).map(active -> {
      // Events are followed while this loads: one newer than the row read (the job finished, failed
      // or was canceled meanwhile) was applied already, and counting the job as running after it
      // would hold one of its user's running slots for good.
      active.forEach(a -> {
        Integer applied = seen.get(a.jobId());
        if (applied == null || applied <= a.seq()) {
          queue.runningStarted(a.jobId(), a.userId(), a.tier());
        }
      });
      LOG.atInfo().addKeyValue("queued", queue.size()).addKeyValue("running", active.size())
          .log("dispatcher loaded the shared queue");
      return null;
    });
  }

  // ---- admission and submissions -------------------------------------------------------------

  Admission admit(String userId, String tierName, int count, QueuedJob candidate) {
    Tier tier = queue.tier(tierName);
    int mine = queue.queued(userId) + pending.getOrDefault(userId, 0);
    if (mine + count > tier.maxQueued()) {
      metrics.rejected("user_queue_full");
      return Admission.refused("user_queue_full", "you already have " + mine + " queued jobs; the "
          + tier.name() + " tier allows " + tier.maxQueued(), settings.retryAfterSeconds());
    }
    if (queue.size() + pendingTotal + count > settings.maxQueuedGlobal()) {
      metrics.rejected("queue_full");
      return Admission.refused("queue_full", "the queue is full; try again shortly",
          settings.retryAfterSeconds());
    }
    if (candidate != null && count == 1) {
      Assignment placed = placeNow(candidate);
      if (placed != null) {
        return Admission.placed(placed.workerId());
      }
    }
    pending.merge(userId, count, Integer::sum);
    pendingTotal += count;
    return Admission.ok();
  }

  /**
   * When nothing waits anywhere (so no one is passed over) and the policy would start the new job
   * on a worker right now, reserve that slot: the job is then stored already dispatched, in the same
   * commit as its submission, instead of queued and claimed in a second transaction.
   */
  private Assignment placeNow(QueuedJob job) {
    if (stopping || queue.size() > 0) {
      return null;
    }
    long now = System.currentTimeMillis();
    fleet.lookahead(now, claimAheadMs());
    if (fleet.totalFree() == 0) {
      return null;
    }
    queue.add(job, now);
    // the queue held nothing else (delayed retries included), so a decision can only be this job's
    List<Assignment> decided = policy.decide(queue, fleet, now);
    if (decided.isEmpty()) {
      queue.remove(job.jobId());
      return null;
    }
    Assignment mine = decided.get(0);
    placing.put(job.jobId(), mine);
    return mine;
  }

  /** A job placed at admission was stored (deliver it) or not (free its slot). */
  void placed(String jobId, Claimed claimed) {
    Assignment a = placing.remove(jobId);
    if (a != null && claimed != null) {
      metrics.placedAtAdmission();
      deliver(a, claimed);
      return;
    }
    if (a != null) {
      undo(a);
      schedule();
    }
    // Not delivered. An insert reported as failed may still have committed (the connection broke
    // after the commit): hand such a row back to the queue now rather than leave it dispatched to a
    // worker that never got it until the execution timeout. A job id that was never stored matches
    // nothing (a taken idempotency key belongs to another job id).
    int attempt = claimed != null ? claimed.attempt() : 1;
    store.unclaim(List.of(jobId), List.of(attempt))
        .onFailure(err -> LOG.warn("unclaim of {} failed (the execution-timeout reaper will re-queue it if it was "
            + "stored): {}", jobId, err.toString()));
  }

  void release(String userId, int count) {
    if (count <= 0) {
      return;
    }
    pending.computeIfPresent(userId, (u, n) -> n > count ? n - count : null);
    pendingTotal = Math.max(0, pendingTotal - count);
  }

  Map<String, PositionBoard.Place> enqueued(String userId, int reserved, List<QueuedJob> jobs) {
    release(userId, reserved);
    long now = System.currentTimeMillis();
    for (QueuedJob job : jobs) {
      remember(job.jobId(), 1);
      queue.add(job, now);
    }
    schedule();
    Map<String, PositionBoard.Place> places = new HashMap<>();
    for (QueuedJob job : jobs) {
      PositionBoard.Place place = locate(job.jobId());
      if (place != null) {
        places.put(job.jobId(), place);
        board.put(job.jobId(), place);
      }
    }
    return places;
  }

  PositionBoard.Place locate(String jobId) {
    Integer position = queue.position(jobId);
    if (position == null) {
      return null;
    }
    QueuedJob job = queue.get(jobId);
    return new PositionBoard.Place(position, eta(position, job), seen.getOrDefault(jobId, 1));
  }

  private Double eta(int position, QueuedJob job) {
    int slots = fleet.totalSlots();
    double runMs = job.expectedRunMs(settings.policy().stepMs());
    double perSecond = metrics.completionsPerSecond();
    if (perSecond <= 0 && slots > 0) {
      perSecond = slots * 1000.0 / Math.max(1.0, runMs);
    }
    if (perSecond <= 0) {
      return null;
    }
    return Math.round((position / perSecond + runMs / 1000.0) * 10) / 10.0;
  }

  // ---- scheduling -------------------------------------------------------------------------

  /**
   * Asks for a scheduling round. Requests made while one is pending share it: a round scans the
   * queue and the fleet, and under load results, events and submissions arrive in bursts that would
   * otherwise each pay for a scan (measured: dispatch turnovers of ~28 ms under a submission burst).
   */
  void schedule() {
    if (scheduleRequested || stopping) {
      return;
    }
    scheduleRequested = true;
    context.runOnContext(v -> {
      scheduleRequested = false;
      runSchedule();
    });
  }

  /**
   * Runs the policy and claims its decisions; at most {@code MAX_CLAIMS_IN_FLIGHT} claim rounds at a
   * time, decisions made meanwhile wait in {@link #awaitingClaim} for the next round.
   */
  private void runSchedule() {
    if (stopping) {
      return;
    }
    long now = System.currentTimeMillis();
    fleet.lookahead(now, claimAheadMs());
    List<Assignment> decided = policy.decide(queue, fleet, now);
    decided.forEach(a -> claimPending.add(a.job().jobId()));
    awaitingClaim.addAll(decided);
    armLookahead(now);
    if (awaitingClaim.isEmpty() || claiming >= MAX_CLAIMS_IN_FLIGHT) {
      return;
    }
    List<Assignment> decisions = List.copyOf(awaitingClaim);
    awaitingClaim.clear();
    claiming++;
    List<String> jobIds = decisions.stream().map(a -> a.job().jobId()).toList();
    List<String> workerIds = decisions.stream().map(Assignment::workerId).toList();
    long claimStarted = System.nanoTime();
    store.claim(settings.routerId(), jobIds, workerIds).onComplete(ar -> {
      claiming--;
      metrics.claimTime.record(System.nanoTime() - claimStarted, java.util.concurrent.TimeUnit.NANOSECONDS);
      Set<String> elsewhere = new HashSet<>();
      for (Assignment a : decisions) {
        claimPending.remove(a.job().jobId());
        if (claimedElsewhere.remove(a.job().jobId())) {
          elsewhere.add(a.job().jobId());
        }
      }
      if (ar.failed()) {
        LOG.atWarn().addKeyValue("jobs", decisions.size()).addKeyValue("error", ar.cause().toString())
            .log("claim failed; jobs stay queued");
        requeueUnsure(decisions.stream().filter(a -> undoUnlessElsewhere(a, elsewhere)).toList(), 0);
        return;
      }
      Map<String, Claimed> won = new HashMap<>();
      ar.result().forEach(c -> won.put(c.jobId(), c));
      for (Assignment a : decisions) {
        Claimed claimed = won.get(a.job().jobId());
        if (claimed == null) {
          undoUnlessElsewhere(a, elsewhere);
          metrics.claimLost();
        } else {
          deliver(a, claimed);
        }
      }
      schedule();
    });
  }

  /**
   * Takes back a decision whose claim did not come through: its worker slot, and its running count
   * unless another replica was seen dispatching the job meanwhile (it runs there). True if undone.
   */
  private boolean undoUnlessElsewhere(Assignment a, Set<String> elsewhere) {
    if (elsewhere.contains(a.job().jobId())) {
      freeSlot(fleet.get(a.workerId()), a.job().jobId());
      return false;
    }
    undo(a);
    return true;
  }

  /**
   * Queues again the jobs of a claim that failed. It may have committed all the same (the
   * connection broke after the commit): such rows would be dispatched to workers never sent them
   * until the execution timeout, and claims of them from the queue here would lose. So first any
   * such row goes back to queued in Postgres, then the jobs join this queue; while Postgres cannot
   * be reached they wait out of it (retried with {@link #backoff}), and if this replica dies
   * meanwhile its lapsed lease re-queues them.
   */
  private void requeueUnsure(List<Assignment> unsure, int retries) {
    if (unsure.isEmpty()) {
      retryLater();
      return;
    }
    store.unclaimUndelivered(settings.routerId(), unsure.stream().map(a -> a.job().jobId()).toList(),
        unsure.stream().map(Assignment::workerId).toList()).onComplete(ar -> {
          if (stopping) {
            return;
          }
          if (ar.failed()) {
            LOG.atWarn().addKeyValue("jobs", unsure.size()).addKeyValue("tries", retries + 1)
                .addKeyValue("error", ar.cause().toString()).log("cannot check a failed claim yet");
            vertx.setTimer(backoff(retries), t -> requeueUnsure(unsure, retries + 1));
            return;
          }
          if (!ar.result().isEmpty()) {
            LOG.atWarn().addKeyValue("jobs", ar.result().size())
                .log("a claim reported failed had committed; its jobs were put back to queued");
          }
          long now = System.currentTimeMillis();
          unsure.forEach(a -> queue.add(a.job(), now));
          schedule();
        });
  }

  private long claimAheadMs() {
    return settings.claimAhead().toMillis();
  }

  /** Schedules a round for when the next busy worker's look-ahead window opens (while jobs wait). */
  private void armLookahead(long now) {
    long lead = claimAheadMs();
    if (lead <= 0 || queue.size() == 0) {
      return;
    }
    armLookaheadAt(fleet.nextLookaheadAfter(now, lead), now);
  }

  private void armLookaheadAt(long at, long now) {
    if (at == Long.MAX_VALUE || at <= now || lookaheadTimer >= 0 && lookaheadAt <= at) {
      return;
    }
    if (lookaheadTimer >= 0) {
      vertx.cancelTimer(lookaheadTimer);
    }
    lookaheadAt = at;
    lookaheadTimer = vertx.setTimer(Math.max(1, at - now), id -> {
      lookaheadTimer = -1;
      lookaheadAt = Long.MAX_VALUE;
      schedule();
    });
  }

  private void retryLater() {
    if (retryTimer < 0) {
      retryTimer = vertx.setTimer(500, id -> {
        retryTimer = -1;
        schedule();
      });
    }
  }

  private void undo(Assignment a) {
    freeSlot(fleet.get(a.workerId()), a.job().jobId());
    queue.runningEnded(a.job().jobId());
  }

  /**
   * Frees a job's slot on a worker (or drops it as the worker's next job). A next job held for the
   * worker takes the slot and is sent at once.
   */
  private void freeSlot(WorkerView view, String jobId) {
    if (view == null) {
      return;
    }
    view.finish(jobId);
    String promoted = view.takePromoted();
    Inflight ahead = promoted == null ? null : inflight.get(promoted);
    if (ahead != null) {
      // it was sent into the worker's queue and is its turn now: the worker runs it (loading its model
      // first, maybe), so it is no longer one the worker drops with its connection, and a worker lost
      // from here on costs it an attempt like any running job (else a job that kills its worker while
      // its model loads would be handed back, unused, for ever)
      cancelAheadTimer(ahead);
      ahead.sentAhead = false;
      return;
    }
    Held h = promoted == null ? null : held.remove(promoted);
    if (h == null) {
      return; // nothing promoted, or its claim has not returned yet (deliver then finds it running)
    }
    vertx.cancelTimer(h.timer());
    Link link = links.get(view.id());
    if (link != null && link.connected && link.view == view) {
      send(h.assignment(), h.claimed(), link);
    } else {
      unclaim(h.claimed());
    }
  }

  private void deliver(Assignment a, Claimed claimed) {
    remember(claimed.jobId(), claimed.seq());
    board.remove(claimed.jobId());
    Link link = links.get(a.workerId());
    if (link == null || !link.connected || link.view != fleet.get(a.workerId()) || link.view.draining()) {
      unclaim(claimed);
      return;
    }
    if (stopping) {
      unclaim(claimed); // its claim round ended after the stop began: the queue is the other replicas' now
      return;
    }
    if (claimed.jobId().equals(link.view.nextJob())) {
      metrics.claimedAhead();
      if (link.queue > 0) {
        // the worker queues it and starts it the moment its running job's engine work ends
        Inflight f = send(a, claimed, link);
        if (f != null) {
          f.sentAhead = true;
          f.aheadTimer = vertx.setTimer(maxHoldMs(), id -> revokeAhead(f));
          metrics.sentAhead();
        }
        return;
      }
      held.put(claimed.jobId(), new Held(a, claimed, vertx.setTimer(maxHoldMs(), id -> holdExpired(claimed.jobId()))));
      return;
    }
    if (!link.view.runningJobs().contains(claimed.jobId())) {
      // its slot was given up while the claim was in flight (drained, or dropped as a next job)
      unclaim(claimed);
      return;
    }
    send(a, claimed, link);
  }

  /** Longest a next job waits for its worker's running job past that job's expected end. */
  private long maxHoldMs() {
    return Math.max(1_000, 20 * claimAheadMs());
  }

  /**
   * A job sent into a worker's queue is still not its turn long after the running job was expected
   * to end: ask the worker to hand it back. It answers {@code failure{code=revoked}} if it had not
   * started it (it returns to the queue then, see {@link #onFailure}); if it had, it runs on.
   */
  private void revokeAhead(Inflight f) {
    f.aheadTimer = -1;
    Link link = links.get(f.workerId);
    if (f.started || f.finishing || inflight.get(f.jobId) != f || link == null || !link.connected) {
      return;
    }
    LOG.atInfo().addKeyValue("job_id", f.jobId).addKeyValue("worker_id", f.workerId)
        .log("a job sent ahead waited too long for its worker's running job to end; revoking it");
    link.session.send(new RouterMessage.Revoke(f.jobId, f.attempt, "the job ahead of it runs far past its estimate"));
  }

  /** An attempt its worker never started goes back to the queue without using up one of the job's tries. */
  private Future<Void> handBackUnused(Inflight f) {
    inflight.remove(f.jobId);
    f.finishing = true;
    cancelTimers(f);
    if (f.sentAhead) {
      metrics.claimedAheadReturned();
    }
    return unclaim(f.claimed);
  }

  /** Sent into the worker's queue and not known to have started: the worker drops such jobs with its connection. */
  private static boolean queuedUnstarted(Inflight f) {
    return f.sentAhead && !f.started && !f.finishing;
  }

  private void cancelAheadTimer(Inflight f) {
    if (f.aheadTimer >= 0) {
      vertx.cancelTimer(f.aheadTimer);
      f.aheadTimer = -1;
    }
  }

  /** A held job's worker is still busy long after its job was expected to end: back to the queue. */
  private void holdExpired(String jobId) {
    Held h = held.remove(jobId);
    if (h == null) {
      return;
    }
    LOG.atInfo().addKeyValue("job_id", jobId).addKeyValue("worker_id", h.assignment().workerId())
        .log("a job claimed ahead waited too long for its worker's running job to end; back to the queue");
    metrics.claimedAheadReturned();
    unclaim(h.claimed());
  }

  /**
   * Gives back the jobs held for a worker (it drains, left or came back as a new connection). A next
   * job whose claim is still in flight is dropped from the worker's view, so its claim returns to
   * find no slot and unclaims it.
   */
  private Future<Void> returnHeld(String workerId) {
    WorkerView view = fleet.get(workerId);
    String next = view == null ? null : view.nextJob();
    if (next != null && !held.containsKey(next) && !inflight.containsKey(next)) {
      view.finish(next); // a claim still in flight (a job sent into the worker's queue is the worker's to hand back)
    }
    List<Future<Void>> unclaims = new ArrayList<>();
    for (Held h : List.copyOf(held.values())) {
      if (h.assignment().workerId().equals(workerId)) {
        held.remove(h.claimed().jobId());
        vertx.cancelTimer(h.timer());
        metrics.claimedAheadReturned();
        unclaims.add(unclaim(h.claimed()));
      }
    }
    return Future.join(unclaims).<Void>mapEmpty().otherwiseEmpty();
  }

  /** A held job ended some other way (canceled, or moved on by another replica): just forget it. */
  private void forgetHeld(String jobId) {
    Held h = held.remove(jobId);
    if (h != null) {
      vertx.cancelTimer(h.timer());
      freeSlot(fleet.get(h.assignment().workerId()), jobId);
    }
  }

  /** Sends the assign; the attempt now in flight, or null if the socket was gone (then unclaimed). */
  private Inflight send(Assignment a, Claimed claimed, Link link) {
    JobParams p = claimed.params();
    long signStarted = System.nanoTime();
    List<UploadSlot> upload;
    try {
      upload = signer.slots(claimed.userId(), claimed.jobId(), claimed.attempt(), p.count());
    } catch (RuntimeException e) {
      // no storage credentials (the provider chain can throw): the job could not upload its images.
      // Not thrown on through the claim round (its other jobs would be left claimed and unsent), and
      // not handed straight back either (it would be claimed again at once, round after round, while
      // the credentials stay missing): the attempt fails as retryable, so the job waits its backoff
      LOG.atWarn().addKeyValue("job_id", claimed.jobId()).addKeyValue("error", e.toString())
          .log("could not sign the job's upload URLs; the attempt fails and is retried");
      // users read the job's error: the provider chain's details stay in the log above
      abandonUnsent(claimed, "storage_unavailable", "the router could not sign upload URLs for the "
          + "images: its storage credentials are unavailable");
      return null;
    }
    metrics.signTime.record(System.nanoTime() - signStarted, java.util.concurrent.TimeUnit.NANOSECONDS);
    JobSpec spec = new JobSpec(claimed.jobId(), claimed.attempt(), p.model(), p.prompt(), p.negativePrompt(),
        p.width(), p.height(), p.steps(), p.cfgScale(), p.seed(), p.scheduler(), p.loras(), p.count(),
        settings.executionTimeout().toMillis(), sourcesToInstall(a.workerId(), p));
    if (!link.session.send(new RouterMessage.Assign(spec, upload))) {
      unclaim(claimed);
      return null;
    }
    Inflight f = new Inflight(claimed, a.workerId(), a.coldLoad());
    inflight.put(claimed.jobId(), f);
    metrics.dispatched(a.coldLoad(), System.currentTimeMillis() - claimed.queuedAtMs());
    return f;
  }

  /**
   * Where the registry keeps the job's models that the worker did not report holding: a worker
   * that lacks one installs it from there. Nothing for held models (the common, warm case). What
   * the worker itself reported counts, not the view's expectation (a job sent here marks its model
   * as the worker's, for the placement of the next ones, before any install succeeded).
   */
  private Map<String, String> sourcesToInstall(String workerId, JobParams p) {
    WorkerView view = fleet.get(workerId);
    Map<String, String> sources = withSource(Map.of(), view, p.model());
    for (LoraRef lora : p.loras()) {
      sources = withSource(sources, view, lora.name());
    }
    return sources;
  }

  /** {@code sources} with the model's, unless the worker reported holding it or it has none. */
  private Map<String, String> withSource(Map<String, String> sources, WorkerView view, String model) {
    String source = view != null && view.reportedHolding(model) ? null : models.sourceOf(model);
    if (source == null) {
      return sources;
    }
    Map<String, String> out = sources.isEmpty() ? new LinkedHashMap<>() : sources;
    out.put(model, source);
    return out;
  }

  /** A claimed job that never reached its worker ends its attempt as a retryable failure. */
  private void abandonUnsent(Claimed claimed, String code, String message) {
    freeSlot(fleet.get(claimed.workerId()), claimed.jobId());
    unclaiming++;
    store.failAttempt(claimed.jobId(), claimed.attempt(), code, message, true, settings.backoff()).onComplete(ar -> {
      unclaiming--;
      queue.runningEnded(claimed.jobId());
      if (ar.succeeded()) {
        if (ar.result().applied()) {
          rememberUnlessQueued(ar.result());
          metrics.outcome(ar.result().status().wire());
        }
      } else {
        LOG.warn("ending the unsent attempt of {} failed (the execution-timeout reaper will re-queue it): {}",
            claimed.jobId(), ar.cause().toString());
      }
      schedule();
    });
  }

  private Future<Void> unclaim(Claimed claimed) {
    freeSlot(fleet.get(claimed.workerId()), claimed.jobId());
    queue.runningEnded(claimed.jobId());
    unclaiming++;
    return store.unclaim(List.of(claimed.jobId()), List.of(claimed.attempt()))
        .<Void>mapEmpty()
        .onComplete(ar -> {
          unclaiming--;
          if (ar.failed()) {
            LOG.warn("unclaim of {} failed (the execution-timeout reaper will re-queue it): {}", claimed.jobId(),
                ar.cause().toString());
          }
        });
  }

  // ---- workers ------------------------------------------------------------------------------

  void onFrame(WorkerSession session, WorkerMessage message) {
    if (message instanceof WorkerMessage.Hello hello) {
      onHello(session, hello);
      return;
    }
    Link link = session.workerId() == null ? null : links.get(session.workerId());
    if (link == null || link.session != session) {
      if (stopping) {
        session.close(1012, RESTARTING);
        return;
      }
      if (link == null && session.workerId() != null) {
        // its hello is being answered (the lookup of its running jobs may be retried for seconds):
        // a worker rendering on sends progress meanwhile, which the reports after the welcome
        // supersede; closing for it would throw the worker into a reconnect loop
        return;
      }
      session.close(1008, "send hello first");
      return;
    }
    link.lastSeenMs = System.currentTimeMillis();
    if (message instanceof WorkerMessage.Heartbeat hb) {
      link.view.reportModels(hb.modelsLoaded());
      link.view.setDraining(hb.draining());
      if (hb.draining()) {
        returnHeld(link.view.id());
      }
      reconcile(link, hb.running());
      schedule();
    } else if (message instanceof WorkerMessage.Progress progress) {
      onProgress(progress);
    } else if (message instanceof WorkerMessage.Result result) {
      onResult(link, result);
    } else if (message instanceof WorkerMessage.Failure failure) {
      onFailure(link, failure);
    }
  }

  /** Lookups of a connecting worker's attempts before it is asked to reconnect (~10 s with backoff). */
  private static final int ADOPT_TRIES = 6;

  private void onHello(WorkerSession session, WorkerMessage.Hello hello) {
    if (stopping) {
      session.close(1012, RESTARTING); // a worker redialing this replica while it stops: try another
      return;
    }
    if (hello.version() != WorkerMessage.PROTOCOL_VERSION) {
      session.close(1002, "protocol version " + hello.version() + " is not supported");
      return;
    }
    String workerId = hello.workerId();
    Link previous = links.remove(workerId);
    if (previous != null) {
      if (previous.graceTimer >= 0) {
        vertx.cancelTimer(previous.graceTimer);
      }
      if (previous.session != session) {
        previous.session.close(4000, "replaced by a new connection");
      }
      returnHeld(workerId);
      fleet.remove(workerId);
    }
    session.identify(workerId);
    adopt(session, hello, 0);
  }

  /**
   * Takes over the attempts a (re)connecting worker says it runs and that are still its own, then
   * welcomes it. A failed lookup is retried while the worker waits, not read as "none": that would
   * tell the worker to abandon healthy work and end each attempt as lost. Still failing, the worker
   * is asked to reconnect later, its attempts left as they are.
   */
  private void adopt(WorkerSession session, WorkerMessage.Hello hello, int tries) {
    String workerId = hello.workerId();
    store.adopt(settings.routerId(), workerId, hello.running()).onComplete(ar -> {
      if (ar.failed()) {
        if (!stopping && !session.isClosed() && tries < ADOPT_TRIES) {
          vertx.setTimer(backoff(tries), id -> adopt(session, hello, tries + 1));
        } else {
          LOG.atWarn().addKeyValue("worker_id", workerId).addKeyValue("error", ar.cause().toString())
              .log("could not look up a connecting worker's running jobs; asked it to reconnect");
          metrics.hello("asked_to_reconnect");
          session.close(1013, "the router could not check your running jobs; reconnect");
        }
        return;
      }
      List<Claimed> adopted = ar.result();
      Set<String> adoptedIds = new HashSet<>();
      adopted.forEach(c -> adoptedIds.add(c.jobId()));
      List<RunningJob> abandon = hello.running().stream().filter(r -> !adoptedIds.contains(r.jobId())).toList();
      long now = System.currentTimeMillis();
      WorkerView view = new WorkerView(workerId, hello.slots(), hello.vramMb(), hello.modelsLoaded());
      for (Claimed c : adopted) {
        view.start(c.jobId(), c.params().model(), now + expectedMs(c.params()), settings.policy().modelsPerWorker());
        queue.runningStarted(c.jobId(), c.userId(), c.tier());
        Inflight known = inflight.get(c.jobId());
        if (known == null || known.attempt != c.attempt() || known.finishing) {
          // adopted from a worker that reconnected: whether it loaded the model is for its report to say
          inflight.put(c.jobId(), new Inflight(c, workerId, false));
        }
        remember(c.jobId(), c.seq());
      }
      // Attempts we had on this worker that it no longer runs were lost with its previous process.
      for (Inflight f : List.copyOf(inflight.values())) {
        if (f.workerId.equals(workerId) && !adoptedIds.contains(f.jobId) && !f.finishing) {
          if (queuedUnstarted(f)) {
            handBackUnused(f); // it waited in the worker's queue, which the worker drops with a connection
          } else {
            endAttempt(f, "worker_lost", "the worker restarted and no longer runs this attempt", true);
          }
        }
      }
      metrics.hello("welcomed");
      Link link = new Link(session, view, now);
      link.gpu = hello.gpu();
      link.queue = hello.queue();
      links.put(workerId, link);
      fleet.add(view);
      session.send(new RouterMessage.Welcome(settings.routerId(), settings.heartbeatInterval().toMillis(),
          settings.heartbeatTimeout().toMillis(), adopted.stream().map(c -> new RunningJob(c.jobId(), c.attempt()))
              .toList(), abandon));
      LOG.atInfo().addKeyValue("worker_id", workerId).addKeyValue("slots", hello.slots())
          .addKeyValue("gpu", hello.gpu()).addKeyValue("models", hello.modelsLoaded())
          .addKeyValue("adopted", adopted.size()).addKeyValue("abandoned", abandon.size())
          .log("worker connected");
      metrics.workers(links.size(), fleet.totalSlots());
      if (session.isClosed()) {
        // it went away while the lookup ran (its close found no link then): as any disconnect, wait
        // for it to come back before its attempts count as lost
        onClosed(session);
        return;
      }
      schedule();
    });
  }

  /** A heartbeat lists what the worker runs: anything it runs that is not its current attempt stops. */
  private void reconcile(Link link, List<RunningJob> reported) {
    for (RunningJob r : reported) {
      Inflight f = inflight.get(r.jobId());
      if (f == null || f.attempt != r.attempt() || !f.workerId.equals(link.view.id())) {
        link.session.send(new RouterMessage.Cancel(r.jobId(), r.attempt(), "not assigned to you"));
      }
    }
  }

  private void onProgress(WorkerMessage.Progress progress) {
    Inflight f = inflight.get(progress.jobId());
    if (f == null || f.attempt != progress.attempt() || f.finishing) {
      return;
    }
    f.pendingProgress = progress;
    long now = System.currentTimeMillis();
    refineEnd(f, progress, now);
    boolean due = !f.started || progress.step() >= progress.total()
        || now - f.lastPersistMs >= settings.progressInterval().toMillis();
    if (due) {
      flushProgress(f);
    } else if (f.flushTimer < 0) {
      long delay = Math.max(1, settings.progressInterval().toMillis() - (now - f.lastPersistMs));
      f.flushTimer = vertx.setTimer(delay, id -> {
        f.flushTimer = -1;
        flushProgress(f);
      });
    }
  }

  /** The worker's pace so far gives a better estimate of when the attempt ends (used to claim ahead). */
  private void refineEnd(Inflight f, WorkerMessage.Progress progress, long now) {
    if (f.firstProgressMs == 0) {
      f.firstProgressMs = now;
      f.firstProgressStep = progress.step();
      return;
    }
    int steps = progress.step() - f.firstProgressStep;
    Link link = links.get(f.workerId);
    if (steps > 0 && link != null) {
      double perStep = (double) (now - f.firstProgressMs) / steps;
      link.view.expectEnd(f.jobId, now + Math.round(Math.max(0, progress.total() - progress.step()) * perStep));
      if (claimAheadMs() > 0 && queue.size() > 0) {
        armLookaheadAt(link.view.lookaheadOpensAt(claimAheadMs()), now); // the window may open sooner now
      }
    }
  }

  private void flushProgress(Inflight f) {
    if (f.persisting || f.pendingProgress == null || f.finishing) {
      return;
    }
    WorkerMessage.Progress p = f.pendingProgress;
    f.pendingProgress = null;
    f.persisting = true;
    f.started = true;
    f.lastPersistMs = System.currentTimeMillis();
    store.progress(p.jobId(), p.attempt(), p.step(), p.total(), p.preview()).onComplete(ar -> {
      f.persisting = false;
      if (ar.succeeded() && ar.result().applied()) {
        remember(f.jobId, ar.result().seq());
      }
      if (f.pendingProgress != null && f.flushTimer < 0) {
        onProgress(f.pendingProgress);
      }
    });
  }

  private void onResult(Link link, WorkerMessage.Result result) {
    Inflight f = inflight.get(result.jobId());
    freeReported(link, result.jobId(), result.attempt());
    if (f == null || f.attempt != result.attempt() || f.finishing) {
      metrics.fenced();
      LOG.atInfo().addKeyValue("job_id", result.jobId()).addKeyValue("attempt", result.attempt())
          .addKeyValue("worker_id", link.view.id()).log("refused a result of an attempt that is no longer current");
      schedule();
      return;
    }
    f.finishing = true;
    cancelTimers(f);
    learnLoadTime(f, result.loadMs());
    verifyAndSucceed(f, result.images(), 0);
    schedule();
  }

  /**
   * Learns the model's load time from a worker that reports having loaded it, also when the policy
   * believed it held the model (it evicted it meanwhile, as InvokeAI does by VRAM). A worker that
   * held the model reports no load time and teaches nothing, whatever the policy expected. Workers
   * before this protocol change reported 0 for a model they held: a 0 counts only where a load was
   * expected, as then.
   */
  private void learnLoadTime(Inflight f, Long loadMs) {
    if (loadMs != null && (loadMs > 0 || f.expectedCold)) {
      fleet.loadTimes().observe(f.model, loadMs);
    }
  }

  /**
   * A worker reported the end of an attempt: its slot is free, unless the slot is now a newer
   * attempt of the same job on this worker (running or held), which the stale report must not end.
   */
  private void freeReported(Link link, String jobId, int attempt) {
    Inflight f = inflight.get(jobId);
    Held h = held.get(jobId);
    boolean newerHere = f != null && f.attempt != attempt && f.workerId.equals(link.view.id())
        || h != null && h.claimed().attempt() != attempt && h.assignment().workerId().equals(link.view.id());
    if (!newerHere) {
      freeSlot(link.view, jobId);
    }
  }

  /**
   * Records a worker's result. A result is never dropped while this replica lives: if the gallery
   * or Postgres is unreachable it is retried with capped backoff until it is recorded (or the job
   * ended some other way, which the fenced update reports as not applied).
   */
  private void verifyAndSucceed(Inflight f, List<ImageOutput> images, int tries) {
    recording.add(f);
    gallery.verify(f.jobId, f.userId, f.attempt, f.claimed.params().prompt(), f.model, images)
        .compose(stored -> results.submit(new JobStore.Success(f.jobId, f.attempt, stored)))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            recording.remove(f);
            Transition t = ar.result();
            finished(f, t.applied() ? "succeeded" : "fenced", t);
          } else if (ar.cause() instanceof GalleryClient.InvalidOutput invalid) {
            recording.remove(f);
            f.finishing = false;
            endAttempt(f, "invalid_output", invalid.getMessage(), true);
          } else if (!stopping) {
            logRetry("result", f, tries, ar.cause());
            vertx.setTimer(backoff(tries), id -> verifyAndSucceed(f, images, tries + 1));
          } else {
            recording.remove(f); // stopping: the lease lapses and another replica re-queues the job
          }
        });
  }

  private static long backoff(int tries) {
    return Math.min(5_000, 250L << Math.min(tries, 5));
  }

  private static void logRetry(String what, Inflight f, int tries, Throwable cause) {
    if (tries == 0 || tries % 10 == 0) {
      LOG.atWarn().addKeyValue("job_id", f.jobId).addKeyValue("attempt", f.attempt).addKeyValue("tries", tries + 1)
          .addKeyValue("error", String.valueOf(cause)).log("could not record the {} yet; retrying", what);
    }
  }

  private void onFailure(Link link, WorkerMessage.Failure failure) {
    Inflight f = inflight.get(failure.jobId());
    freeReported(link, failure.jobId(), failure.attempt());
    if (f == null || f.attempt != failure.attempt() || f.finishing) {
      schedule();
      return;
    }
    if (!f.started && HANDED_BACK.contains(failure.code())) {
      // the worker never started it (queued behind an overrunning job, or it drains): back to the
      // queue without using up one of the job's attempts, as a held job would go
      handBackUnused(f);
      closeIfHandedBack(link);
      schedule();
      return;
    }
    boolean retryable = failure.retryable() && !settings.deterministicCodes().contains(failure.code());
    endAttempt(f, failure.code(), failure.message(), retryable);
    schedule();
  }

  /** Ends an attempt of ours in failure (re-queued or failed per the retry policy). */
  private void endAttempt(Inflight f, String code, String message, boolean retryable) {
    if (f.finishing) {
      return;
    }
    f.finishing = true;
    cancelTimers(f);
    recordFailure(f, code, message, retryable, 0);
  }

  private void recordFailure(Inflight f, String code, String message, boolean retryable, int tries) {
    recording.add(f);
    store.failAttempt(f.jobId, f.attempt, code, message, retryable, settings.backoff()).onComplete(ar -> {
      if (ar.succeeded()) {
        recording.remove(f);
        finished(f, ar.result().applied() ? ar.result().status().wire() : "fenced", ar.result());
      } else if (!stopping) {
        logRetry("failed attempt", f, tries, ar.cause());
        vertx.setTimer(backoff(tries), id -> recordFailure(f, code, message, retryable, tries + 1));
      } else {
        recording.remove(f);
      }
    });
  }

  private void finished(Inflight f, String outcome, Transition t) {
    // Only while f is still the job's attempt in flight: the late outcome of an earlier attempt (its
    // write retried through an outage while the janitor re-queued the job and it was claimed again,
    // perhaps on the same worker) must not take the current attempt out of flight or free its slot.
    // Whoever replaced f freed f's slot then (stopAttempt, release).
    if (inflight.remove(f.jobId, f)) {
      freeSlot(fleet.get(f.workerId), f.jobId);
    }
    if (t != null && t.applied()) {
      rememberUnlessQueued(t);
      queue.runningEnded(f.jobId);
    }
    metrics.outcome(outcome);
    schedule();
  }

  private void cancelTimers(Inflight f) {
    if (f.flushTimer >= 0) {
      vertx.cancelTimer(f.flushTimer);
      f.flushTimer = -1;
    }
    cancelAheadTimer(f);
  }

  void onClosed(WorkerSession session) {
    String workerId = session.workerId();
    Link link = workerId == null ? null : links.get(workerId);
    if (link == null || link.session != session) {
      return;
    }
    link.connected = false;
    returnHeld(workerId);
    fleet.remove(workerId);
    metrics.workers(links.size() - 1, fleet.totalSlots());
    if (stopping) {
      links.remove(workerId);
      return;
    }
    LOG.atInfo().addKeyValue("worker_id", workerId).log("worker disconnected; waiting for it to reconnect");
    link.graceTimer = vertx.setTimer(settings.reconnectGrace().toMillis(), id -> {
      link.graceTimer = -1;
      if (links.get(workerId) == link) {
        lose(link, "worker_lost", "the worker disconnected and did not come back");
      }
    });
  }

  /** Declares a worker dead: its attempts here are re-queued (or failed after max attempts). */
  private void lose(Link link, String code, String message) {
    String workerId = link.view.id();
    // its held jobs go back unused first: the release below would end them as lost attempts
    List<Future<Void>> returned = new ArrayList<>(List.of(returnHeld(workerId)));
    links.remove(workerId);
    fleet.remove(workerId);
    link.session.close(4001, message);
    // a job waiting in its queue was never started (the worker drops those with the connection):
    // back to the queue unused, as a held one; the worker's running attempts are re-queued as lost
    inflight.values().stream().filter(f -> f.workerId.equals(workerId) && queuedUnstarted(f)).toList()
        .forEach(f -> returned.add(handBackUnused(f)));
    List<Inflight> lost = inflight.values().stream().filter(f -> f.workerId.equals(workerId)).toList();
    lost.forEach(f -> {
      f.finishing = true;
      cancelTimers(f);
    });
    metrics.workers(links.size(), fleet.totalSlots());
    Future.join(returned).onComplete(v -> release(workerId, lost, code, message, 0));
  }

  /** Re-queues a lost worker's attempts; retried until Postgres takes it (or we stop). */
  private void release(String workerId, List<Inflight> lost, String code, String message, int tries) {
    if (tries > 0 && links.containsKey(workerId)) {
      // the worker came back meanwhile: what it still runs was adopted (its hello put a new record
      // in flight); the attempts it no longer runs were left to this release, so end them one by one
      for (Inflight f : lost) {
        if (inflight.get(f.jobId) == f) {
          recordFailure(f, code, message, true, 0);
        }
      }
      return;
    }
    store.releaseWorker(settings.routerId(), workerId, code, message, settings.backoff()).onComplete(ar -> {
      if (ar.failed()) {
        if (!stopping) {
          if (tries % 10 == 0) {
            LOG.atWarn().addKeyValue("worker_id", workerId).addKeyValue("error", ar.cause().toString())
                .log("could not re-queue a lost worker's jobs yet; retrying");
          }
          vertx.setTimer(backoff(tries), id -> release(workerId, lost, code, message, tries + 1));
        }
        return;
      }
      for (Transition t : ar.result()) {
        rememberUnlessQueued(t);
        queue.runningEnded(t.jobId());
        metrics.outcome(t.status().wire());
      }
      lost.forEach(f -> inflight.remove(f.jobId, f));
      LOG.atWarn().addKeyValue("worker_id", workerId).addKeyValue("jobs", ar.result().size())
          .addKeyValue("reason", code).log("worker lost; its jobs were re-queued");
      schedule();
    });
  }

  /** Periodic: workers silent past the heartbeat timeout are dead. */
  void checkHeartbeats() {
    long now = System.currentTimeMillis();
    for (Link link : List.copyOf(links.values())) {
      if (link.connected && now - link.lastSeenMs > settings.heartbeatTimeout().toMillis()) {
        link.connected = false;
        lose(link, "worker_lost", "no heartbeat for " + settings.heartbeatTimeout().toSeconds() + "s");
      }
    }
    if (queue.nextDueMs() >= 0 && queue.nextDueMs() <= now) {
      schedule();
    }
  }

  /** Asks a worker of this replica to drain; false if it is not connected here. */
  boolean drain(String workerId, String reason) {
    Link link = links.get(workerId);
    if (link == null || !link.connected) {
      return false;
    }
    link.view.setDraining(true);
    returnHeld(workerId);
    link.session.send(new RouterMessage.Drain(reason));
    LOG.atInfo().addKeyValue("worker_id", workerId).addKeyValue("reason", reason).log("asked a worker to drain");
    return true;
  }

  /** The operator's view of this replica: its workers and what they run, and the shared queue. */
  JsonObject snapshot() {
    long now = System.currentTimeMillis();
    JsonArray workers = new JsonArray();
    for (Link link : links.values()) {
      JsonArray jobs = new JsonArray();
      for (Inflight f : inflight.values()) {
        if (f.workerId.equals(link.view.id())) {
          jobs.add(new JsonObject().put("job_id", f.jobId).put("attempt", f.attempt).put("user_id", f.userId));
        }
      }
      workers.add(new JsonObject().put("id", link.view.id()).put("router_id", settings.routerId())
          .put("gpu", link.gpu).put("vram_mb", link.view.vramMb()).put("slots", link.view.slots())
          .put("busy", link.view.busy()).put("models", new JsonArray(link.view.models()))
          .put("next_job", link.view.nextJob()).put("draining", link.view.draining()).put("connected", link.connected)
          .put("heartbeat_age_ms", now - link.lastSeenMs).put("jobs", jobs));
    }
    FairQueue.Depth queued = queue.depth(now);
    JsonArray depth = new JsonArray();
    queued.byTierModel().forEach((tier, models) -> models.forEach((model, n) ->
        depth.add(new JsonObject().put("tier", tier).put("model", model).put("queued", n))));
    return new JsonObject().put("router_id", settings.routerId()).put("workers", workers)
        .put("queue", new JsonObject().put("queued", queue.size()).put("running", queue.runningTotal())
            .put("oldest_seconds", (now - queued.oldestEnqueuedMs()) / 1000).put("by_tier_model", depth))
        .put("model_load_ms", new JsonObject(new java.util.LinkedHashMap<>(fleet.loadTimes().view())))
        .put("throughput_per_s", Math.round(metrics.completionsPerSecond() * 100) / 100.0)
        .put("dispatch_latency_ms", metrics.recentDispatchLatency());
  }

  // ---- cancellation and shared-queue events -------------------------------------------------

  /** A job was canceled (here or on another replica): stop its worker and free the slot at once. */
  void onCanceled(String jobId, int attempt) {
    QueuedJob queued = queue.remove(jobId);
    if (queued != null) {
      board.remove(jobId);
    }
    forgetHeld(jobId);
    Inflight f = inflight.remove(jobId);
    if (f != null && f.attempt == attempt) {
      cancelTimers(f);
      f.finishing = true;
      Link link = links.get(f.workerId);
      if (link != null) {
        // the cancel goes out before a next job's assign, so the two do not overlap on the GPU
        link.session.send(new RouterMessage.Cancel(jobId, attempt, "canceled by the user"));
        freeSlot(link.view, jobId);
      }
      metrics.outcome("canceled");
    }
    queue.runningEnded(jobId);
    schedule();
  }

  /** An event as received: parsed and applied only when it is news to this dispatcher. */
  void onQueueEvent(DispatchMessages.QueueEvent event) {
    Integer seenSeq = seen.get(event.jobId());
    boolean known = seenSeq != null && seenSeq >= event.seq();
    metrics.queueEvent(known);
    if (known) {
      return;
    }
    JsonObject json;
    try {
      json = new JsonObject(event.json());
    } catch (RuntimeException e) {
      LOG.warn("skipping a malformed event of job {}", event.jobId());
      return;
    }
    onEvent(json);
  }

  /** Applies an event of the shared topic (any replica's) to the queue view. */
  private void onEvent(JsonObject json) {
    String jobId = json.getString("job_id");
    Integer seq = json.getInteger("seq");
    String type = json.getString("type");
    if (jobId == null || seq == null || type == null) {
      return;
    }
    Integer known = seen.get(jobId);
    if (known != null && known >= seq) {
      return;
    }
    remember(jobId, seq);
    String userId = json.getString("user_id");
    switch (type) {
      case JobEvent.QUEUED -> {
        forgetHeld(jobId);
        Inflight f = inflight.get(jobId);
        if (f != null) {
          stopAttempt(f, "the attempt was ended by another replica");
        }
        queue.runningEnded(jobId);
        queue.add(fromEvent(json), System.currentTimeMillis());
        schedule();
      }
      case JobEvent.DISPATCHED -> {
        queue.remove(jobId);
        board.remove(jobId);
        queue.runningStarted(jobId, userId, json.getString("tier", "free"));
        if (claimPending.contains(jobId) && !settings.routerId().equals(json.getString("router_id"))) {
          claimedElsewhere.add(jobId);
        }
      }
      case JobEvent.SUCCEEDED, JobEvent.FAILED, JobEvent.CANCELED -> {
        queue.remove(jobId);
        board.remove(jobId);
        forgetHeld(jobId);
        Inflight f = inflight.get(jobId);
        if (f != null && !f.finishing) {
          stopAttempt(f, type.equals(JobEvent.CANCELED) ? "canceled" : "the job ended elsewhere");
        }
        queue.runningEnded(jobId);
        schedule();
      }
      default -> {
      }
    }
  }

  private void stopAttempt(Inflight f, String reason) {
    inflight.remove(f.jobId);
    cancelTimers(f);
    f.finishing = true;
    Link link = links.get(f.workerId);
    if (link != null) {
      link.session.send(new RouterMessage.Cancel(f.jobId, f.attempt, reason));
      freeSlot(link.view, f.jobId);
    }
  }

  private static QueuedJob fromEvent(JsonObject e) {
    List<String> loras = new ArrayList<>();
    JsonArray loraJson = e.getJsonArray("loras", new JsonArray());
    for (Object l : loraJson) {
      if (l instanceof JsonObject lora) {
        loras.add(lora.getString("name"));
      }
    }
    String notBefore = e.getString("not_before");
    return new QueuedJob(e.getString("job_id"), e.getString("user_id"), e.getString("tier", "free"),
        e.getString("model"), List.copyOf(loras), e.getInteger("priority", 0), millis(e.getString("queued_at")),
        notBefore == null ? 0 : millis(notBefore), e.getInteger("steps", 30), e.getInteger("count", 1),
        millis(e.getString("created_at")));
  }

  private static long millis(String timestamp) {
    if (timestamp == null) {
      return System.currentTimeMillis();
    }
    try {
      return OffsetDateTime.parse(timestamp).toInstant().toEpochMilli();
    } catch (RuntimeException e) {
      return Instant.parse(timestamp).toEpochMilli();
    }
  }

  // ---- positions and metrics ------------------------------------------------------------------

  /** Periodic: pushes changed positions to owners connected here; refreshes gauges. */
  void refreshPositions() {
    for (String userId : hub.users()) {
      for (Map.Entry<String, Integer> e : queue.positionsOf(userId, POSITIONS_PER_USER).entrySet()) {
        String jobId = e.getKey();
        PositionBoard.Place place = new PositionBoard.Place(e.getValue(), eta(e.getValue(), queue.get(jobId)),
            seen.getOrDefault(jobId, 1));
        PositionBoard.Place before = board.get(jobId);
        if (before == null || before.position() != place.position()) {
          board.put(jobId, place);
          hub.deliver(userId, place.applyTo(new JsonObject().put("type", JobEvent.QUEUED).put("job_id", jobId)
              .put("seq", place.seq()).put("ts", Instant.now().toString()).put("status", "queued")
              .put("refresh", true)));
        }
      }
    }
    metrics.snapshot(queue, fleet, inflight.size());
  }

  /**
   * Stops dispatching: held jobs go back to the queue, and a job sent into a worker's queue that it
   * has not started is revoked, so the worker hands it back ({@code failure{code=revoked}}, back to
   * the queue without using an attempt, see {@link #onFailure}) before its connection closes.
   * Closing first would make the worker drop it while the database still has it dispatched here: it
   * would wait for this replica's lease to lapse (8 s) and be re-queued with an attempt counted. A
   * worker that had just started it runs it on, and the replica it reconnects to adopts it.
   * Submissions still in flight are stored queued, for the other replicas. Safe to call again.
   */
  void stop() {
    if (stopping) {
      return;
    }
    for (Link link : links.values()) {
      returnHeld(link.view.id());
    }
    stopping = true;
    for (Inflight f : inflight.values()) {
      if (waitsInConnectedQueue(f)) {
        cancelAheadTimer(f);
        links.get(f.workerId).session.send(new RouterMessage.Revoke(f.jobId, f.attempt, "the router is shutting down"));
      }
    }
  }

  /**
   * The HTTP server is shutting down and will close this worker's socket: stop dispatching, and
   * close it as soon as the worker has handed back what waited in its queue (at most
   * {@code REVOKE_WAIT_MS}), so the worker reconnects to another replica at once.
   */
  void onServerShutdown(WorkerSession session) {
    stop();
    String workerId = session.workerId();
    Link link = workerId == null ? null : links.get(workerId);
    if (link == null || link.session != session || !awaitingRevoked(workerId)) {
      session.close(1012, RESTARTING);
      return;
    }
    vertx.setTimer(REVOKE_WAIT_MS, id -> session.close(1012, RESTARTING));
  }

  /** A stopping replica closes a worker's socket once it handed back what was revoked from its queue. */
  private void closeIfHandedBack(Link link) {
    if (stopping && !awaitingRevoked(link.view.id())) {
      link.session.close(1012, RESTARTING);
    }
  }

  /** Closes the worker connections still open (after {@link #stop}): they reconnect to another replica. */
  void closeWorkers() {
    for (Link link : links.values()) {
      link.session.close(1012, RESTARTING);
    }
  }

  /**
   * Nothing in flight that stopping should wait for: claim rounds, inserts, unclaims, revoked jobs,
   * and workers' outcomes being recorded (a worker never reports one twice: dropped here, a finished
   * job would wait for the lease to lapse and run again).
   */
  boolean idle() {
    return claiming == 0 && placing.isEmpty() && unclaiming == 0 && recording.isEmpty() && !awaitingRevoked(null);
  }

  /**
   * A job revoked on stop that its still connected worker (any, if null) has neither handed back nor
   * started: once stopping, every job in a connected worker's queue was revoked ({@link #stop}; no
   * job is sent ahead after it, and no worker connects).
   */
  private boolean awaitingRevoked(String workerId) {
    if (!stopping) {
      return false;
    }
    for (Inflight f : inflight.values()) {
      if ((workerId == null || workerId.equals(f.workerId)) && waitsInConnectedQueue(f)) {
        return true;
      }
    }
    return false;
  }

  /** A job sent into the queue of a worker still connected here, not started yet. */
  private boolean waitsInConnectedQueue(Inflight f) {
    Link link = links.get(f.workerId);
    return queuedUnstarted(f) && link != null && link.connected;
  }

  private long expectedMs(JobParams p) {
    return (long) p.steps() * p.count() * settings.policy().stepMs();
  }

  /**
   * A re-queued job comes back into the queue through its {@code job.queued} event (which carries
   * what the queue needs), so that seq must not be marked as already seen.
   */
  private void rememberUnlessQueued(Transition t) {
    if (t.status() != ai.pingvas.generation.domain.JobStatus.QUEUED) {
      remember(t.jobId(), t.seq());
    }
  }

  private void remember(String jobId, int seq) {
    Integer known = seen.get(jobId);
    if (known == null || known < seq) {
      seen.put(jobId, seq);
    }
  }
}
