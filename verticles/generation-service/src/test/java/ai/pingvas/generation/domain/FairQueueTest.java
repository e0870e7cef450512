package ai.pingvas.generation.domain;

import static ai.pingvas.generation.domain.Jobs.job;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FairQueueTest {

  /** Serves the queue one job at a time, in the order a scheduler would. */
  private static List<QueuedJob> drain(FairQueue queue, int n) {
    List<QueuedJob> served = new ArrayList<>();
    for (int i = 0; i < n && queue.size() > 0; i++) {
      Iterator<UserQueue> users = queue.usersInOrder();
      QueuedJob next = users.next().head();
      queue.serve(next);
      served.add(next);
    }
    return served;
  }

  @Test
  void aBurstOfTenThousandDoesNotStarveAnotherUsersSingleJob() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    for (int i = 0; i < 10_000; i++) {
      queue.add(job("alice", "sd-1.5", i), 0);
    }
    drain(queue, 100);
    QueuedJob bob = job("bob", "sd-1.5", 20_000);
    queue.add(bob, 0);
    assertThat(queue.position(bob.jobId())).isLessThanOrEqualTo(1);
    List<QueuedJob> next = drain(queue, 2);
    assertThat(next).contains(bob);
  }

  @Test
  void sharesFollowTierWeights() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    for (int i = 0; i < 1_000; i++) {
      queue.add(job("free-user", "free", "m", 0, i), 0);
      queue.add(job("pro-user", "pro", "m", 0, i), 0);
      queue.add(job("studio-user", "studio", "m", 0, i), 0);
    }
    Map<String, Integer> counts = new HashMap<>();
    drain(queue, 1_000).forEach(j -> counts.merge(j.userId(), 1, Integer::sum));
    assertThat(counts.get("free-user")).isBetween(95, 105);
    assertThat(counts.get("pro-user")).isBetween(295, 305);
    assertThat(counts.get("studio-user")).isBetween(595, 605);
  }

  @Test
  void priorityOrdersAUsersOwnJobsButNeverOvertakesOtherUsers() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    QueuedJob aliceLow = job("alice", "free", "m", 0, 1);
    QueuedJob aliceHigh = job("alice", "free", "m", 5, 2);
    QueuedJob bob = job("bob", "free", "m", 0, 3);
    queue.add(aliceLow, 0);
    queue.add(aliceHigh, 0);
    queue.add(bob, 0);
    List<QueuedJob> order = drain(queue, 3);
    assertThat(order.indexOf(aliceHigh)).isLessThan(order.indexOf(aliceLow));
    assertThat(order.indexOf(bob)).isLessThan(order.indexOf(aliceLow));
  }

  @Test
  void anIdleUserBanksNoCredit() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    for (int i = 0; i < 50; i++) {
      queue.add(job("alice", "m", i), 0);
    }
    drain(queue, 40);
    // carol was idle while alice used the fleet: on arrival she gets a fair share, not 40 jobs in a row
    for (int i = 0; i < 20; i++) {
      queue.add(job("carol", "m", 100 + i), 0);
    }
    List<QueuedJob> next = drain(queue, 10);
    assertThat(next.stream().filter(j -> j.userId().equals("alice")).count()).isGreaterThanOrEqualTo(4);
  }

  @Test
  void usersWhoseJobsHaveEndedAreForgottenInAQuietQueue() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    // a stream of users with one job each: every one starts at the virtual time, which never moves
    for (int i = 0; i < 5_000; i++) {
      runToTheEnd(queue, drainOne(queue, job("user-" + i, "m", i)));
    }
    assertThat(queue.rememberedUsers()).isZero();
  }

  @Test
  void usersWhoseJobsHaveEndedAreForgottenWhileAnotherUsersBurstWaits() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    for (int i = 0; i < 20_000; i++) {
      queue.add(job("alice", "m", i), 0);
    }
    for (int i = 0; i < 5_000; i++) {
      queue.add(job("user-" + i, "m", 100_000 + i), 0);
      for (QueuedJob served : drain(queue, 2)) {
        runToTheEnd(queue, served);
      }
    }
    // alice (still queued) and the idle users of at most one sweep interval
    assertThat(queue.rememberedUsers()).isBetween(1, 1 + 1024);
    assertThat(queue.queued("alice")).isGreaterThan(0);
  }

  private static QueuedJob drainOne(FairQueue queue, QueuedJob job) {
    queue.add(job, 0);
    return drain(queue, 1).get(0);
  }

  private static void runToTheEnd(FairQueue queue, QueuedJob job) {
    queue.runningStarted(job.jobId(), job.userId(), job.tier());
    queue.runningEnded(job.jobId());
  }

  @Test
  void positionsCountJobsThatWillRunFirst() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    List<QueuedJob> alice = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      QueuedJob j = job("alice", "m", i);
      alice.add(j);
      queue.add(j, 0);
    }
    QueuedJob bob = job("bob", "m", 10);
    queue.add(bob, 0);
    assertThat(queue.position(alice.get(0).jobId())).isEqualTo(0);
    assertThat(queue.position(bob.jobId())).isEqualTo(1);
    assertThat(queue.position(alice.get(4).jobId())).isEqualTo(5);
    List<QueuedJob> served = drain(queue, 6);
    assertThat(served.indexOf(bob)).isEqualTo(1);
    assertThat(served.indexOf(alice.get(4))).isEqualTo(5);
  }

  @Test
  void retryBackoffHoldsJobsUntilDue() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    QueuedJob retry = new QueuedJob("r1", "alice", "free", "m", List.of(), 0, 0, 5_000, 20, 1, 0);
    queue.add(retry, 1_000);
    assertThat(queue.usersInOrder().hasNext()).isFalse();
    assertThat(queue.nextDueMs()).isEqualTo(5_000);
    queue.promoteDue(4_999);
    assertThat(queue.usersInOrder().hasNext()).isFalse();
    queue.promoteDue(5_000);
    assertThat(queue.usersInOrder().next().head()).isEqualTo(retry);
    assertThat(queue.queued("alice")).isEqualTo(1);
  }

  @Test
  void runningCountsAreIdempotentPerJob() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    queue.runningStarted("j1", "alice", "free");
    queue.runningStarted("j1", "alice", "free");
    queue.runningStarted("j2", "alice", "free");
    assertThat(queue.running("alice")).isEqualTo(2);
    queue.runningEnded("j1");
    queue.runningEnded("j1");
    assertThat(queue.running("alice")).isEqualTo(1);
    assertThat(queue.runningTotal()).isEqualTo(1);
  }

  @Test
  void removingAndReAddingIsIdempotent() {
    FairQueue queue = new FairQueue(Jobs.TIERS);
    QueuedJob j = job("alice", "sdxl", 1);
    assertThat(queue.add(j, 0)).isTrue();
    assertThat(queue.add(j, 0)).isFalse();
    assertThat(queue.demand("sdxl")).isEqualTo(1);
    assertThat(queue.remove(j.jobId())).isEqualTo(j);
    assertThat(queue.remove(j.jobId())).isNull();
    assertThat(queue.size()).isZero();
    assertThat(queue.demand("sdxl")).isZero();
  }
}
