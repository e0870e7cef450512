package ai.pingvas.generation.domain;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Model-blind baselines for the fleet benchmark: round-robin or least-loaded worker choice. */
final class BaselinePolicy implements DispatchPolicy {
  private final SchedulerSettings settings;
  private final boolean leastLoaded;
  private int cursor;

  BaselinePolicy(SchedulerSettings settings, boolean leastLoaded) {
    this.settings = settings;
    this.leastLoaded = leastLoaded;
  }

  @Override
  public List<Assignment> decide(FairQueue queue, Fleet fleet, long now) {
    List<Assignment> out = new ArrayList<>();
    queue.promoteDue(now);
    while (fleet.totalFree() > 0 && queue.size() > 0) {
      QueuedJob job = null;
      for (Iterator<UserQueue> it = queue.usersInOrder(); it.hasNext();) {
        UserQueue user = it.next();
        if (!user.atRunningCap()) {
          job = user.head();
          break;
        }
      }
      if (job == null) {
        break;
      }
      WorkerView worker = leastLoaded ? leastBusy(fleet) : nextInRotation(fleet);
      Assignment a = new Assignment(job, worker.id(), !worker.holds(job.model()));
      AffinityPolicy.apply(a, queue, fleet, now, settings);
      out.add(a);
    }
    return out;
  }

  private WorkerView leastBusy(Fleet fleet) {
    WorkerView best = null;
    for (WorkerView w : fleet.all()) {
      if (w.free() > 0 && (best == null || (double) w.busy() / w.slots() < (double) best.busy() / best.slots())) {
        best = w;
      }
    }
    return best;
  }

  private WorkerView nextInRotation(Fleet fleet) {
    List<WorkerView> all = new ArrayList<>(fleet.all());
    // an open slot first; a worker about to free one (look-ahead) only when none is open
    for (boolean open : new boolean[] {true, false}) {
      for (int i = 0; i < all.size(); i++) {
        WorkerView w = all.get((cursor + i) % all.size());
        if (open ? w.openSlots() > 0 : w.free() > 0) {
          cursor = (cursor + i + 1) % all.size();
          return w;
        }
      }
    }
    throw new IllegalStateException("no free worker");
  }
}
