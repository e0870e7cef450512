package ai.pingvas.generation.domain;

import static ai.pingvas.generation.domain.Jobs.job;
import static ai.pingvas.generation.domain.Jobs.worker;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AffinityPolicyTest {
  private final DispatchPolicy policy = DispatchPolicy.affinity(Jobs.SETTINGS);

  @Test
  void prefersTheWorkerThatAlreadyHoldsTheModel() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    fleet.add(worker("cold", "sd-1.5"));
    fleet.add(worker("warm", "sdxl"));
    queue.add(job("alice", "sdxl", 0), 0);
    List<Assignment> decisions = policy.decide(queue, fleet, 0);
    assertThat(decisions).singleElement().satisfies(a -> {
      assertThat(a.workerId()).isEqualTo("warm");
      assertThat(a.coldLoad()).isFalse();
    });
  }

  @Test
  void usersAtTheirRunningCapDoNotHideTheUsersBehindThemFromAFreeWorker() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    fleet.add(worker("w", "sd-1.5"));
    // 600 free users ahead in fair order, each running its cap of 2 (on other replicas' workers)
    for (int u = 0; u < 600; u++) {
      String user = "capped-" + u;
      queue.add(job(user, "sd-1.5", 0), 0);
      queue.runningStarted(user + "-a", user, "free");
      queue.runningStarted(user + "-b", user, "free");
    }
    queue.add(job("zed", "sd-1.5", 10), 10);
    assertThat(policy.decide(queue, fleet, 20)).singleElement().satisfies(a -> {
      assertThat(a.job().userId()).isEqualTo("zed");
      assertThat(a.workerId()).isEqualTo("w");
    });
  }

  @Test
  void prefersTheWarmWorkerHoldingTheJobsLoras() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    fleet.add(worker("plain", "sdxl"));
    fleet.add(worker("with-lora", "sdxl", "pixel-art"));
    queue.add(new QueuedJob("j", "alice", "free", "sdxl", List.of("pixel-art"), 0, 0, 0, 20, 1, 0), 0);
    assertThat(policy.decide(queue, fleet, 0)).singleElement()
        .satisfies(a -> assertThat(a.workerId()).isEqualTo("with-lora"));
  }

  @Test
  void waitsForABusyWarmWorkerRatherThanSwapWhenThatIsCheaper() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView warm = warmAndIdle(queue, fleet, 1_000, "sd-1.5", "flux");
    // the warm worker frees up in 1 s, a load costs 8 s: wait
    assertThat(policy.decide(queue, fleet, 0)).isEmpty();
    warm.finish("running");
    assertThat(policy.decide(queue, fleet, 10)).singleElement()
        .satisfies(a -> assertThat(a.workerId()).isEqualTo("warm"));
  }

  @Test
  void loadsAModelThatWorkersReportLoadingQuicklyRatherThanWaitForAWarmWorker() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    warmAndIdle(queue, fleet, 1_000, "sd-1.5", "flux");
    // with the configured 8 s estimate the job would wait 1 s for the warm worker (as above); the
    // workers have reported that sdxl loads in 300 ms, so the idle worker loads it now
    fleet.loadTimes().observe("sdxl", 300);
    assertThat(policy.decide(queue, fleet, 0)).singleElement().satisfies(a -> {
      assertThat(a.workerId()).isEqualTo("idle");
      assertThat(a.coldLoad()).isTrue();
    });
  }

  @Test
  void swapsWhenWaitingJobsWouldOtherwiseStarve() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    warmAndIdle(queue, fleet, 60_000, "sd-1.5");
    // the only warm worker is busy for a minute: loading elsewhere (8 s) is better
    assertThat(policy.decide(queue, fleet, 0)).singleElement().satisfies(a -> {
      assertThat(a.workerId()).isEqualTo("idle");
      assertThat(a.coldLoad()).isTrue();
    });
  }

  @Test
  void agingEndsTheWaitForAWarmWorker() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView warm = warmAndIdle(queue, fleet, 1_000, "sd-1.5");
    assertThat(policy.decide(queue, fleet, 0)).isEmpty();
    // still "cheaper to wait" by the estimate, but the job has waited affinity-max-wait: load it
    warm.start("running", "sdxl", 40_000, 2);
    assertThat(policy.decide(queue, fleet, 20_000)).singleElement()
        .satisfies(a -> assertThat(a.workerId()).isEqualTo("idle"));
  }

  @Test
  void anAgedJobStillTakesAWarmWorkerThatFreesBeforeALoadWouldFinish() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView warm = warmAndIdle(queue, fleet, 1_000, "sd-1.5");
    assertThat(policy.decide(queue, fleet, 0)).isEmpty();
    // past affinity-max-wait, but the warm worker frees in 3 s and a load takes 8 s: loading
    // would start the job later, so it keeps waiting for the warm worker
    warm.start("running", "sdxl", 23_000, 2);
    assertThat(policy.decide(queue, fleet, 20_000)).isEmpty();
    // the warm worker keeps overrunning: after affinity-max-wait plus a load time the job loads
    warm.start("running", "sdxl", 29_000, 2);
    assertThat(policy.decide(queue, fleet, 27_999)).isEmpty();
    assertThat(policy.decide(queue, fleet, 28_000)).singleElement().satisfies(a -> {
      assertThat(a.workerId()).isEqualTo("idle");
      assertThat(a.coldLoad()).isTrue();
    });
  }

  /**
   * Alice's sdxl job; a worker holding sdxl busy until {@code busyUntil} ("running"), returned; an
   * idle worker holding {@code idleModels}.
   */
  private static WorkerView warmAndIdle(FairQueue queue, Fleet fleet, long busyUntil, String... idleModels) {
    WorkerView warm = worker("warm", "sdxl");
    warm.start("running", "sdxl", busyUntil, 2);
    fleet.add(warm);
    fleet.add(worker("idle", idleModels));
    queue.add(job("alice", "sdxl", 0), 0);
    return warm;
  }

  @Test
  void workConservingWhileAJobWaitsForItsModel() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView warm = worker("sdxl-box", "sdxl");
    warm.start("running", "sdxl", 1_000, 2);
    fleet.add(warm);
    fleet.add(worker("sd15-box", "sd-1.5"));
    QueuedJob waiting = job("alice", "sdxl", 0);
    QueuedJob other = job("bob", "sd-1.5", 1);
    queue.add(waiting, 0);
    queue.add(other, 0);
    // alice is first in fair order but waits for the sdxl box; bob's warm job uses the free box
    assertThat(policy.decide(queue, fleet, 0)).singleElement().satisfies(a -> {
      assertThat(a.job()).isEqualTo(other);
      assertThat(a.workerId()).isEqualTo("sd15-box");
    });
  }

  @Test
  void neverEvictsTheOnlyCopyOfAModelThatHasWaitingJobs() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    // both workers are full (2 models each); their least recently used model would be evicted
    fleet.add(worker("a", "sd-1.5", "flux"));
    fleet.add(worker("b", "sd-2", "flux"));
    // bob waits for sd-1.5 (a holds the only copy) but is at his running cap, so he is not served now
    queue.runningStarted("bob-1", "bob", "free");
    queue.runningStarted("bob-2", "bob", "free");
    for (int i = 0; i < 3; i++) {
      queue.add(job("bob", "sd-1.5", i), 0);
    }
    queue.add(job("alice", "sdxl", 5), 0);
    List<Assignment> decisions = policy.decide(queue, fleet, 0);
    assertThat(decisions).singleElement().satisfies(a -> {
      assertThat(a.job().model()).isEqualTo("sdxl");
      assertThat(a.workerId()).isEqualTo("b");
      assertThat(a.coldLoad()).isTrue();
    });
    assertThat(fleet.get("a").holds("sd-1.5")).isTrue();
    assertThat(fleet.get("b").holds("sd-2")).isFalse();
  }

  @Test
  void takesALaterSamePriorityJobThatAFreeWorkerRunsWarmInsteadOfLoading() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView busyFlux = worker("flux-box", "flux");
    busyFlux.start("x", "flux", 1_000, 2);
    fleet.add(busyFlux);
    fleet.add(worker("sdxl-box", "sdxl"));
    QueuedJob head = job("alice", "flux", 0);
    QueuedJob later = job("alice", "sdxl", 1);
    queue.add(head, 0);
    queue.add(later, 0);
    // alice's next job wants flux (busy for 1 s): the sdxl box takes her later sdxl job, no load
    assertThat(policy.decide(queue, fleet, 0)).singleElement().satisfies(a -> {
      assertThat(a.job()).isEqualTo(later);
      assertThat(a.coldLoad()).isFalse();
    });
  }

  @Test
  void looksUpTo32JobsDeepForAWarmJobBeforeLoading() {
    // 31 flux jobs ahead of alice's sdxl job (it is 32nd): the free sdxl box runs it warm
    assertThat(deepPick(31).coldLoad()).isFalse();
    // 32 ahead: too deep; the flux backlog (64 s on one busy box) makes the sdxl box load flux
    Assignment tooDeep = deepPick(32);
    assertThat(tooDeep.coldLoad()).isTrue();
    assertThat(tooDeep.job().model()).isEqualTo("flux");
  }

  private Assignment deepPick(int fluxJobsAhead) {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView busyFlux = worker("flux-box", "flux");
    busyFlux.start("x", "flux", 1_000, 2);
    fleet.add(busyFlux);
    fleet.add(worker("sdxl-box", "sdxl"));
    for (int i = 0; i < fluxJobsAhead; i++) {
      queue.add(job("alice", "flux", i), 0);
    }
    queue.add(job("alice", "sdxl", fluxJobsAhead), 0);
    List<Assignment> decisions = policy.decide(queue, fleet, 0);
    assertThat(decisions).singleElement().satisfies(a -> assertThat(a.workerId()).isEqualTo("sdxl-box"));
    return decisions.get(0);
  }

  @Test
  void neverReordersAcrossPriorities() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView busyFlux = worker("flux-box", "flux");
    busyFlux.start("x", "flux", 1_000, 2);
    fleet.add(busyFlux);
    fleet.add(worker("sdxl-box", "sdxl"));
    queue.add(job("alice", "free", "flux", 5, 0), 0);
    queue.add(job("alice", "free", "sdxl", 0, 1), 0);
    // the sdxl job has a lower priority than alice's next job: it may not jump ahead
    assertThat(policy.decide(queue, fleet, 0)).isEmpty();
  }

  @Test
  void agesFromWhenAJobBecameItsUsersNextJobNotFromSubmission() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    WorkerView warm = worker("warm", "sdxl");
    warm.start("running", "sdxl", 60_000, 2);
    fleet.add(warm);
    fleet.add(worker("idle", "sd-1.5"));
    // submitted long ago but just became alice's next job: it may still wait for the warm worker
    QueuedJob old = new QueuedJob("old", "alice", "free", "sdxl", List.of(), 0, 0, 0, 20, 1, 0);
    queue.add(old, 0);
    queue.add(job("alice", "sdxl", 1), 0);
    warm.finish("running");
    warm.start("running-2", "sdxl", 100_500, 2);
    assertThat(policy.decide(queue, fleet, 100_000)).isEmpty();
    warm.start("running-2", "sdxl", 160_000, 2); // it overruns, well past what a load would take
    assertThat(policy.decide(queue, fleet, 100_000 + Jobs.SETTINGS.affinityMaxWaitMs())).singleElement()
        .satisfies(a -> assertThat(a.workerId()).isEqualTo("idle"));
  }

  @Test
  void amongJobsThatMustLoadTheModelWithMostQueuedWorkPerWarmSlotLoadsFirst() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    fleet.add(worker("empty"));
    QueuedJob rare = job("alice", "rare", 0);
    queue.add(rare, 0);
    for (int i = 0; i < 5; i++) {
      queue.add(job("bob", "popular", i), 0);
    }
    // alice is first in fair order, but both must load: the model with five queued jobs goes first
    List<Assignment> first = policy.decide(queue, fleet, 0);
    assertThat(first).singleElement().satisfies(a -> {
      assertThat(a.job().model()).isEqualTo("popular");
      assertThat(a.coldLoad()).isTrue();
    });
    fleet.get("empty").finish(first.get(0).job().jobId());
    queue.runningEnded(first.get(0).job().jobId());
    // once alice's job has waited affinity-max-wait it loads on the next empty worker
    fleet.add(worker("empty-2"));
    assertThat(policy.decide(queue, fleet, Jobs.SETTINGS.affinityMaxWaitMs())).anySatisfy(a -> {
      assertThat(a.job()).isEqualTo(rare);
      assertThat(a.workerId()).isEqualTo("empty-2");
      assertThat(a.coldLoad()).isTrue();
    });
  }

  @Test
  void aFreeWorkerLoadsAModelWhoseBacklogWouldOutlastTheLoadInsteadOfItsWarmJob() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = rebalanceScene(queue, "p1", 30, true, "popular");
    // 30 rare jobs of 2 s on one worker (60 s) outlast the 8 s load plus alice's one job on the
    // other popular worker: p1 loads rare for carol's next job; alice's job waits for p2
    assertThat(policy.decide(queue, fleet, 0)).singleElement().satisfies(a -> {
      assertThat(a.workerId()).isEqualTo("p1");
      assertThat(a.job().model()).isEqualTo("rare");
      assertThat(a.job().userId()).isEqualTo("carol");
      assertThat(a.coldLoad()).isTrue();
    });
    assertThat(fleet.get("p1").holds("popular")).isTrue();
  }

  @Test
  void noRebalancingWhenTheBacklogIsShortOrTheWorkerIsItsModelsOnlyCopy() {
    // a short rare backlog (3 jobs, 6 s) does not pay for an 8 s load: the warm job runs
    assertThat(rebalanced(3, true, "popular")).isFalse();
    // the only worker holding popular keeps serving it, however long the rare backlog
    assertThat(rebalanced(30, false, "popular")).isFalse();
    // a load would evict flux, the only copy of a model with waiting jobs
    assertThat(rebalanced(30, true, "flux", "popular")).isFalse();
    assertThat(rebalanced(30, true, "popular")).isTrue();
  }

  @Test
  void rebalancesWhenTheBacklogOutlastsTheSwitchAndTheWarmQueueByHalfASwitch() {
    // the switch is an 8 s load and a 2 s job; alice's popular queue takes 2 s on the other popular
    // worker. 4 rare jobs behind a job ending in 2 s drain in 10 s: no longer than the switch
    assertThat(rebalanced(4, true, "popular")).isFalse();
    // 5 drain in 12 s: past the switch, and 10 s past popular's queue (more than half a switch)
    assertThat(rebalanced(5, true, "popular")).isTrue();
  }

  /** Whether a free worker holding {@code models} leaves alice's warm popular job for carol's rare backlog. */
  private boolean rebalanced(int rareJobs, boolean secondPopularWorker, String... models) {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = rebalanceScene(queue, "free", rareJobs, secondPopularWorker, models);
    List<Assignment> decisions = policy.decide(queue, fleet, 0);
    assertThat(decisions).singleElement().satisfies(a -> assertThat(a.workerId()).isEqualTo("free"));
    return decisions.get(0).job().model().equals("rare");
  }

  /**
   * A free worker {@code freeId} holding {@code models}; another worker holding popular, busy for
   * 2 s (if {@code secondPopularWorker}); one worker holding rare, busy for 2 s. Queued: alice's
   * popular job, dave's flux job (dave at his running cap) and carol's {@code rareJobs} rare jobs.
   */
  private static Fleet rebalanceScene(FairQueue queue, String freeId, int rareJobs, boolean secondPopularWorker,
      String... models) {
    Fleet fleet = new Fleet();
    fleet.add(worker(freeId, models));
    if (secondPopularWorker) {
      WorkerView other = worker("other", "popular");
      other.start("other-job", "popular", 2_000, 2);
      fleet.add(other);
    }
    WorkerView rareBox = worker("rare-box", "rare");
    rareBox.start("rare-job", "rare", 2_000, 2);
    fleet.add(rareBox);
    queue.add(job("alice", "popular", 0), 0);
    queue.add(job("dave", "flux", 0), 0);
    queue.runningStarted("dave-1", "dave", "free");
    queue.runningStarted("dave-2", "dave", "free");
    for (int i = 0; i < rareJobs; i++) {
      queue.add(job("carol", "rare", i), 0);
    }
    return fleet;
  }

  @Test
  void respectsPerUserRunningCaps() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    Fleet fleet = new Fleet();
    for (int i = 0; i < 4; i++) {
      fleet.add(worker("w" + i, "m"));
    }
    for (int i = 0; i < 10; i++) {
      queue.add(job("alice", "m", i), 0);
    }
    // the free tier allows 2 running jobs per user
    List<Assignment> decisions = policy.decide(queue, fleet, 0);
    assertThat(decisions).hasSize(2);
    assertThat(queue.running("alice")).isEqualTo(2);
    assertThat(fleet.totalFree()).isEqualTo(2);
  }

  @Test
  void loadsFewerModelsThanModelBlindBaselinesOnTheSameWorkload() {
    int affinity = modelLoads(DispatchPolicy.affinity(Jobs.SETTINGS));
    int leastLoaded = modelLoads(DispatchPolicy.leastLoaded(Jobs.SETTINGS));
    int roundRobin = modelLoads(DispatchPolicy.roundRobin(Jobs.SETTINGS));
    assertThat(affinity * 3).isLessThanOrEqualTo(leastLoaded);
    assertThat(affinity * 3).isLessThanOrEqualTo(roundRobin);
  }

  /** 8 workers, 6 models, 600 jobs arriving in waves; counts cold loads. */
  private static int modelLoads(DispatchPolicy policy) {
    FairQueue queue = new FairQueue(java.util.Map.of("free", new Tier("free", 1, 1_000, 100_000)));
    Fleet fleet = new Fleet();
    for (int i = 0; i < 8; i++) {
      fleet.add(new WorkerView("w" + i, 1, 24_000, List.of()));
    }
    java.util.Random random = new java.util.Random(7);
    String[] models = {"m0", "m0", "m0", "m1", "m1", "m2", "m3", "m4", "m5"};
    int loads = 0;
    long now = 0;
    int submitted = 0;
    java.util.Map<String, Long> endsAt = new java.util.HashMap<>();
    java.util.Map<String, String> runningOn = new java.util.HashMap<>();
    while (submitted < 600 || queue.size() > 0 || !endsAt.isEmpty()) {
      for (int i = 0; i < 4 && submitted < 600; i++, submitted++) {
        queue.add(new QueuedJob("j" + submitted, "u" + (submitted % 5), "free",
            models[random.nextInt(models.length)], List.of(), 0, now, 0, 20, 1, now), now);
      }
      for (Assignment a : policy.decide(queue, fleet, now)) {
        loads += a.coldLoad() ? 1 : 0;
        endsAt.put(a.job().jobId(), now + 2_000 + (a.coldLoad() ? 8_000 : 0));
        runningOn.put(a.job().jobId(), a.workerId());
      }
      now += 500;
      for (String job : List.copyOf(endsAt.keySet())) {
        if (endsAt.get(job) <= now) {
          endsAt.remove(job);
          fleet.get(runningOn.remove(job)).finish(job);
          queue.runningEnded(job);
        }
      }
    }
    return loads;
  }
}
