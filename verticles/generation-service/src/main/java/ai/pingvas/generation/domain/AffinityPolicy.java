package ai.pingvas.generation.domain;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Fair, model-affine dispatch.
 *
 * <ol>
 *   <li>Users are visited in fair-share order; each offers its own highest-priority job.</li>
 *   <li>A job goes to a free worker that already holds its model (the least busy such worker) —
 *       unless another model's backlog would clearly outlast this model's queue on its other
 *       workers: then the worker loads that model for the next job wanting it (rebalancing,
 *       so the queue drains evenly instead of a few workers finishing an under-served model's
 *       backlog while the rest idle).</li>
 *   <li>Otherwise it waits for a warm worker while that is cheaper than a cold load — the expected
 *       wait (the warm workers' backlog for that model) is below the load time — but not past
 *       {@code affinityMaxWait} (aging), except while one of its model's workers frees before a
 *       load would finish (at most a load time longer). Meanwhile later users whose models are
 *       warm go first, so no slot idles that could be used without a swap.</li>
 *   <li>Before any load, a free worker may take a later job of a user near the front (same
 *       priority, a few jobs deep) whose model it holds — unless a job has already waited past
 *       {@code affinityMaxWait}, which then loads first.</li>
 *   <li>Of the jobs that may not wait, one that waited past {@code affinityMaxWait} loads first (in
 *       fair order); otherwise the one whose model has the most queued jobs per warm slot, so
 *       loads follow the queue's mix of models (D'Hondt apportionment of the fleet).</li>
 *   <li>A job that may not wait loads its model on the free worker where that hurts least: spare
 *       model capacity first, then evicting a model nobody is waiting for, least recently used.
 *       Evicting the only copy of a model with waiting jobs costs most: that is how thrashing is
 *       avoided.</li>
 * </ol>
 */
final class AffinityPolicy implements DispatchPolicy {
  private static final int SCAN_LIMIT = 512;
  /**
   * Users at their running cap are skipped without counting towards {@code SCAN_LIMIT} (a check of
   * a counter, against the limit's per-user model work): 512 capped users ahead in fair order
   * otherwise hid every user behind them from free workers. Bounded all the same.
   */
  private static final int CAPPED_SKIP_LIMIT = 1 << 16;
  private static final int DEEP_USERS = 128;
  private static final int DEEP_JOBS = 32;
  private final SchedulerSettings settings;

  AffinityPolicy(SchedulerSettings settings) {
    this.settings = settings;
  }

  @Override
  public List<Assignment> decide(FairQueue queue, Fleet fleet, long now) {
    List<Assignment> out = new ArrayList<>();
    queue.promoteDue(now);
    while (fleet.totalFree() > 0 && queue.size() > 0) {
      Assignment next = pick(queue, fleet, now);
      if (next == null) {
        break;
      }
      apply(next, queue, fleet, now, settings);
      out.add(next);
    }
    return out;
  }

  private Assignment pick(FairQueue queue, Fleet fleet, long now) {
    QueuedJob mustLoad = null;
    double mustLoadShare = -1;
    boolean aged = false;
    int scanned = 0;
    int capped = 0;
    for (Iterator<UserQueue> it = queue.usersInOrder(); it.hasNext() && scanned < SCAN_LIMIT
        && capped < CAPPED_SKIP_LIMIT;) {
      UserQueue user = it.next();
      if (user.atRunningCap()) {
        capped++;
        continue;
      }
      scanned++;
      QueuedJob job = user.head();
      WorkerView warm = bestWarm(fleet, job);
      if (warm != null) {
        Assignment moved = rebalance(warm, job, queue, fleet, now);
        return moved != null ? moved : new Assignment(job, warm.id(), false);
      }
      long waited = user.headWaitMs(now);
      if (aged || worthWaiting(job, waited, queue, fleet, now) || agedButWarmSoon(job, waited, fleet, now)) {
        continue;
      }
      if (waited >= settings.affinityMaxWaitMs()) {
        // the first aged job in fair order loads first
        mustLoad = job;
        aged = true;
      } else {
        double share = share(job.model(), queue, fleet);
        if (share > mustLoadShare) {
          mustLoad = job;
          mustLoadShare = share;
        }
      }
    }
    if (!aged) {
      Assignment deep = deepWarm(queue, fleet);
      if (deep != null) {
        return deep;
      }
    }
    if (mustLoad != null) {
      WorkerView cold = bestCold(fleet, queue);
      if (cold != null) {
        return new Assignment(mustLoad, cold.id(), true);
      }
    }
    return null;
  }

  /**
   * No user's next job suits a free worker without a load: look a little further into each user's
   * queue (same priority as their next job, at most {@code DEEP_JOBS} deep) for a job whose model a
   * free worker holds. A user's jobs of equal priority may so run slightly out of order, which saves
   * a model load each time; the head job keeps aging and gets its load after affinity-max-wait.
   */
  private Assignment deepWarm(FairQueue queue, Fleet fleet) {
    if (fleet.totalFree() == 0) {
      return null;
    }
    int scanned = 0;
    int capped = 0;
    for (Iterator<UserQueue> it = queue.usersInOrder(); it.hasNext() && scanned < DEEP_USERS
        && capped < CAPPED_SKIP_LIMIT;) {
      UserQueue user = it.next();
      if (user.atRunningCap()) {
        capped++;
        continue;
      }
      scanned++;
      int priority = user.head().priority();
      int depth = 0;
      for (QueuedJob job : user.jobs()) {
        if (depth++ >= DEEP_JOBS || job.priority() != priority) {
          break;
        }
        WorkerView warm = bestWarm(fleet, job);
        if (warm != null) {
          return new Assignment(job, warm.id(), false);
        }
      }
    }
    return null;
  }

  static void apply(Assignment a, FairQueue queue, Fleet fleet, long now, SchedulerSettings settings) {
    QueuedJob job = a.job();
    queue.serve(job);
    queue.runningStarted(job.jobId(), job.userId(), job.tier());
    long expected = job.expectedRunMs(settings.stepMs()) + (a.coldLoad() ? loadMs(job.model(), fleet, settings) : 0);
    fleet.get(a.workerId()).start(job.jobId(), job.model(), now + expected, settings.modelsPerWorker());
  }

  /**
   * A free worker about to take a warm job of model A loads model B instead when B's queue takes
   * longer to drain on B's warm slots than the switch (a load and a job) and longer than A's queue
   * takes on A's other slots without this worker, by more than half the switch: the fleet's queue
   * then drains evenly instead of leaving a few workers to finish an under-served model's backlog
   * while the rest idle. Never takes the only
   * holder of A, never evicts the only copy of a model with waiting jobs; B's job is the next job of
   * the first user in fair order whose next job wants B.
   */
  private Assignment rebalance(WorkerView worker, QueuedJob warmJob, FairQueue queue, Fleet fleet, long now) {
    if (queue.size() <= 2) {
      return null; // nothing waits but this job and perhaps one more: nothing to rebalance
    }
    long run = warmJob.expectedRunMs(settings.stepMs());
    String a = warmJob.model();
    int slotsA = fleet.warmSlots(a);
    if (slotsA <= worker.slots() || evictionCost(worker, fleet, queue) >= 1) {
      return null;
    }
    double drainAWithout = queue.demand(a) * (double) run / (slotsA - worker.slots());
    String b = null;
    double bestMargin = 0;
    for (Map.Entry<String, Integer> e : queue.demandView().entrySet()) {
      String model = e.getKey();
      if (worker.holds(model)) {
        continue;
      }
      int slots = fleet.warmSlots(model);
      if (slots == 0) {
        continue; // no copy at all: its jobs load through the must-load path
      }
      double drain = fleet.msUntilWarmSlot(model, now) + e.getValue() * (double) run / slots;
      double switchMs = loadMs(model, fleet, settings) + run;
      if (drain <= switchMs) {
        continue; // its queue ends before this worker could help with it
      }
      // half the switch: a smaller margin leaves the queues' ends uneven (GPUs idle at the end), a
      // whole one also lets loads through that pay back barely (both in the fleet model)
      double margin = drain - (drainAWithout + switchMs / 2);
      if (margin > bestMargin) {
        b = model;
        bestMargin = margin;
      }
    }
    if (b == null) {
      return null;
    }
    int scanned = 0;
    int capped = 0;
    for (Iterator<UserQueue> it = queue.usersInOrder(); it.hasNext() && scanned < SCAN_LIMIT
        && capped < CAPPED_SKIP_LIMIT;) {
      UserQueue user = it.next();
      if (user.atRunningCap()) {
        capped++;
        continue;
      }
      scanned++;
      if (user.head().model().equals(b)) {
        return new Assignment(user.head(), worker.id(), true);
      }
    }
    return null;
  }

  /**
   * Queued jobs of the model per warm slot if one more slot loaded it. Among jobs that must load,
   * the model with the highest share loads first (D'Hondt): loads then follow the queue's mix of
   * models instead of whichever models happen to head users' queues.
   */
  private static double share(String model, FairQueue queue, Fleet fleet) {
    return queue.demand(model) / (double) (fleet.warmSlots(model) + 1);
  }

  /**
   * A job past affinity-max-wait still takes a warm worker rather than a load when one of its
   * model's workers frees before the load would finish: loading would start it later, and the load
   * would be one more copy than the model's queue asked for. Bounded: once it has waited
   * affinity-max-wait plus a load time (what loading at affinity-max-wait would have cost it), it
   * loads whatever the estimate says, so a warm worker stuck on an overrunning job cannot hold it.
   */
  private boolean agedButWarmSoon(QueuedJob job, long waitedAtHead, Fleet fleet, long now) {
    long load = loadMs(job.model(), fleet, settings);
    long maxWait = settings.affinityMaxWaitMs();
    return waitedAtHead >= maxWait && waitedAtHead < maxWait + load && fleet.warmSlots(job.model()) > 0
        && fleet.msUntilWarmSlot(job.model(), now) < load;
  }

  private boolean worthWaiting(QueuedJob job, long waitedAtHead, FairQueue queue, Fleet fleet, long now) {
    int warmSlots = fleet.warmSlots(job.model());
    if (warmSlots == 0) {
      return false;
    }
    if (waitedAtHead >= settings.affinityMaxWaitMs()) {
      return false;
    }
    long untilFree = fleet.msUntilWarmSlot(job.model(), now);
    long backlog = Math.max(0, queue.demand(job.model()) - 1);
    long expectedWait = untilFree + backlog * job.expectedRunMs(settings.stepMs()) / warmSlots;
    return expectedWait < loadMs(job.model(), fleet, settings);
  }

  /** What loading the model is expected to cost: as workers reported it, else the configured estimate. */
  private static long loadMs(String model, Fleet fleet, SchedulerSettings settings) {
    return fleet.loadTimes().estimateMs(model, settings.modelLoadMs());
  }

  /**
   * A free worker holding the model: the one holding most of the job's LoRAs, then one with an open
   * slot over one about to free (a job claimed ahead waits for it), then the least busy.
   */
  private static WorkerView bestWarm(Fleet fleet, QueuedJob job) {
    WorkerView best = null;
    int bestLoras = -1;
    for (WorkerView w : fleet.all()) {
      if (w.free() <= 0 || !w.holds(job.model())) {
        continue;
      }
      int loras = 0;
      for (String lora : job.loras()) {
        if (w.holds(lora)) {
          loras++;
        }
      }
      boolean open = w.openSlots() > 0;
      boolean bestOpen = best != null && best.openSlots() > 0;
      if (best == null || loras > bestLoras
          || loras == bestLoras && (open && !bestOpen || open == bestOpen && w.free() > best.free())) {
        best = w;
        bestLoras = loras;
      }
    }
    return best;
  }

  private WorkerView bestCold(Fleet fleet, FairQueue queue) {
    WorkerView best = null;
    double bestCost = Double.MAX_VALUE;
    for (WorkerView w : fleet.all()) {
      if (w.free() <= 0) {
        continue;
      }
      double cost = evictionCost(w, fleet, queue) + w.busy() * 0.01;
      if (cost < bestCost) {
        best = w;
        bestCost = cost;
      }
    }
    return best;
  }

  /** What loading one more model on this worker destroys: the demand served by what it evicts. */
  private double evictionCost(WorkerView w, Fleet fleet, FairQueue queue) {
    List<String> models = w.models();
    if (models.size() < settings.modelsPerWorker()) {
      return 0;
    }
    String victim = models.get(0);
    int demand = queue.demand(victim);
    if (demand == 0) {
      return 0.001;
    }
    int copies = fleet.warmCopies(victim);
    return copies <= 1 ? 1_000_000.0 + demand : (double) demand / copies;
  }
}
