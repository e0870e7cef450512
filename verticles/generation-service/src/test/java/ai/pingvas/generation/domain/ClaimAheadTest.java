package ai.pingvas.generation.domain;

import static ai.pingvas.generation.domain.Jobs.job;
import static ai.pingvas.generation.domain.Jobs.worker;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A busy worker's look-ahead slot: who gets it, when it opens, and what happens when the slot frees. */
class ClaimAheadTest {
  private final DispatchPolicy policy = DispatchPolicy.affinity(Jobs.SETTINGS);

  @Test
  void aFullWorkerOffersOneSlotOnlyWithinTheWindowBeforeItsJobEnds() {
    WorkerView w = busyUntil(1_000);
    w.lookahead(0, 50);
    assertThat(w.free()).isZero();
    w.lookahead(949, 50);
    assertThat(w.free()).isZero();
    w.lookahead(950, 50);
    assertThat(w.free()).isEqualTo(1);
    assertThat(w.lookaheadOpensAt(50)).isEqualTo(950);
    // a job that overran its estimate by more than the window offers nothing (no endless hold)
    w.lookahead(1_051, 50);
    assertThat(w.free()).isZero();
    // off
    w.lookahead(990, 0);
    assertThat(w.free()).isZero();
    assertThat(w.lookaheadOpensAt(0)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void theNextJobWaitsOffTheSlotAndTakesItWhenTheRunningJobEnds() {
    WorkerView w = busyUntil(1_000);
    w.lookahead(980, 50);
    w.start("next", "sdxl", 1_980, 2);
    assertThat(w.nextJob()).isEqualTo("next");
    assertThat(w.busy()).isEqualTo(1);
    assertThat(w.runningJobs()).containsExactly("running");
    // one look-ahead slot at most
    assertThat(w.free()).isZero();
    assertThat(w.lookaheadOpensAt(50)).isEqualTo(Long.MAX_VALUE);
    // its slot frees after the running job and the next one's run
    assertThat(w.msUntilFree(980)).isEqualTo(20 + 1_000);

    assertThat(w.finish("running")).isTrue();
    assertThat(w.takePromoted()).isEqualTo("next");
    assertThat(w.takePromoted()).isNull();
    assertThat(w.nextJob()).isNull();
    assertThat(w.runningJobs()).containsExactly("next");
  }

  @Test
  void droppingTheNextJobLeavesTheRunningOneAndPromotesNothing() {
    WorkerView w = busyUntil(1_000);
    w.lookahead(990, 50);
    w.start("next", "sdxl", 2_000, 2);
    assertThat(w.finish("next")).isTrue();
    assertThat(w.nextJob()).isNull();
    assertThat(w.runningJobs()).containsExactly("running");
    assertThat(w.finish("running")).isTrue();
    assertThat(w.takePromoted()).isNull();
    assertThat(w.free()).isEqualTo(1);
  }

  @Test
  void aDrainingWorkerTakesNoNextJob() {
    WorkerView w = busyUntil(1_000);
    w.setDraining(true);
    w.lookahead(990, 50);
    assertThat(w.free()).isZero();
    assertThat(w.lookaheadOpensAt(50)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void theProgressEstimateMovesTheWindow() {
    WorkerView w = busyUntil(1_000);
    w.expectEnd("running", 3_000);
    w.lookahead(990, 50);
    assertThat(w.free()).isZero();
    assertThat(w.lookaheadOpensAt(50)).isEqualTo(2_950);
    w.expectEnd("unknown", 10);
    assertThat(w.runningJobs()).containsExactly("running");
  }

  @Test
  void thePolicyPlacesTheNextJobOnTheWarmWorkerAboutToFreeRatherThanLoadElsewhere() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView warm = worker("warm", "sdxl");
    warm.start("running", "sdxl", 1_000, 2);
    fleet.add(warm);
    WorkerView busyElsewhere = worker("other", "flux");
    busyElsewhere.start("long", "flux", 60_000, 2);
    fleet.add(busyElsewhere);
    queue.add(job("alice", "sdxl", 0), 0);

    fleet.lookahead(500, 50);
    assertThat(policy.decide(queue, fleet, 500)).isEmpty();
    assertThat(fleet.nextLookaheadAfter(500, 50)).isEqualTo(950);

    fleet.lookahead(960, 50);
    List<Assignment> decided = policy.decide(queue, fleet, 960);
    assertThat(decided).singleElement().satisfies(a -> {
      assertThat(a.workerId()).isEqualTo("warm");
      assertThat(a.coldLoad()).isFalse();
    });
    assertThat(warm.nextJob()).isEqualTo(decided.get(0).job().jobId());
    // the other worker's window opens much later; this one has its next job
    assertThat(fleet.nextLookaheadAfter(960, 50)).isEqualTo(59_950);
    assertThat(queue.size()).isZero();
  }

  @Test
  void anOpenSlotWinsOverAWorkerAboutToFreeOne() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView busy = worker("about-to-free", "sdxl");
    busy.start("running", "sdxl", 1_000, 2);
    fleet.add(busy);
    fleet.add(worker("idle", "sdxl"));
    queue.add(job("alice", "sdxl", 960), 960);
    fleet.lookahead(960, 50);
    assertThat(busy.free()).isEqualTo(1);
    assertThat(policy.decide(queue, fleet, 960)).first()
        .satisfies(a -> assertThat(a.workerId()).isEqualTo("idle"));
    assertThat(busy.nextJob()).isNull();

    for (DispatchPolicy baseline : List.of(DispatchPolicy.roundRobin(Jobs.SETTINGS),
        DispatchPolicy.leastLoaded(Jobs.SETTINGS))) {
      Fleet two = new Fleet();
      WorkerView first = worker("about-to-free", "sdxl");
      first.start("running", "sdxl", 1_000, 2);
      two.add(first);
      two.add(worker("idle", "sdxl"));
      FairQueue q = new FairQueue(Jobs.TIERS);
      q.add(job("bob", "sdxl", 960), 960);
      two.lookahead(960, 50);
      assertThat(baseline.decide(q, two, 960)).singleElement()
          .satisfies(a -> assertThat(a.workerId()).isEqualTo("idle"));
    }
  }

  /** A one-slot worker holding sdxl, its slot taken by job "running" expected to end at {@code end}. */
  private static WorkerView busyUntil(long end) {
    WorkerView w = worker("w", "sdxl");
    w.start("running", "sdxl", end, 2);
    return w;
  }
}
