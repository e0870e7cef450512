package ai.pingvas.k8s;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The GPU fleet fits together: the NodePool (g5/g6, nvidia.com/gpu taint, spot and on-demand, limits,
 * never disrupting a busy node) and the worker Deployment (requests a GPU, tolerates the taint, lands on
 * the pool, scales no further than the pool's GPU limit). Procedural workers need none of it.
 */
final class GpuFleet {
  private static Rendered karpenter;

  private GpuFleet() {
  }

  static List<String> check(Rendered r) {
    List<String> v = new ArrayList<>();
    List<Obj> pools = r.ofKind("NodePool");
    if (pools.isEmpty() && r.find("Deployment", "worker") != null) {
      pools = infraPools();
    }
    pools.forEach(pool -> nodePool(pool, v));
    Obj worker = r.find("Deployment", "worker");
    if (worker != null) {
      worker(r, worker, pools.stream().filter(p -> "gpu".equals(p.name())).findFirst().orElse(null), v);
    }
    return v;
  }

  private static synchronized List<Obj> infraPools() {
    if (karpenter == null) {
      karpenter = Rendered.of(Repo.k8s().resolve("infra/karpenter"), null);
    }
    return karpenter.ofKind("NodePool");
  }

  private static void nodePool(Obj pool, List<String> v) {
    Object spec = pool.get("spec", "template", "spec");
    boolean tainted = Obj.list(spec, "taints").stream().anyMatch(t -> "nvidia.com/gpu".equals(Obj.str(t, "key"))
        && "NoSchedule".equals(Obj.str(t, "effect")));
    if (!tainted) {
      v.add(pool.id() + ": no nvidia.com/gpu NoSchedule taint: any pod could land on a GPU node");
    }
    List<Object> families = requirement(spec, "karpenter.k8s.aws/instance-family");
    if (families.isEmpty() || !List.of("g5", "g6").containsAll(families)) {
      v.add(pool.id() + ": instance families " + families + " are not g5/g6");
    }
    List<Object> capacity = requirement(spec, "karpenter.sh/capacity-type");
    if (!capacity.containsAll(List.of("spot", "on-demand"))) {
      v.add(pool.id() + ": capacity types " + capacity + " must allow spot and on-demand");
    }
    if (Obj.at(pool.tree(), "spec", "limits", "nvidia.com/gpu") == null) {
      v.add(pool.id() + ": no nvidia.com/gpu limit: nothing caps the GPU bill");
    }
    String policy = Obj.str(pool.tree(), "spec", "disruption", "consolidationPolicy");
    if (!"WhenEmpty".equals(policy)) {
      v.add(pool.id() + ": consolidationPolicy " + policy + " may evict a worker in the middle of a job");
    }
  }

  private static List<Object> requirement(Object spec, String key) {
    return Obj.list(spec, "requirements").stream().filter(req -> key.equals(Obj.str(req, "key")))
        .flatMap(req -> Obj.list(req, "values").stream()).toList();
  }

  private static void worker(Rendered r, Obj worker, Obj pool, List<String> v) {
    Object podSpec = worker.get("spec", "template", "spec");
    Object container = Obj.at(podSpec, "containers", 0);
    Map<String, String> env = Env.values(r, container);
    String engine = env.getOrDefault("PINGVAS_WORKER_ENGINE", "procedural");
    Object gpus = Obj.at(container, "resources", "limits", "nvidia.com/gpu");
    boolean tolerates = Obj.list(podSpec, "tolerations").stream()
        .anyMatch(t -> "nvidia.com/gpu".equals(Obj.str(t, "key")));
    Map<String, Object> nodeSelector = Obj.map(podSpec, "nodeSelector");
    if (engine.equals("procedural")) {
      if (gpus != null || tolerates || !nodeSelector.isEmpty()) {
        v.add(worker.id() + ": procedural workers must not ask for GPUs, GPU tolerations or GPU nodes");
      }
      return;
    }
    if (gpus == null || !Objects.equals(String.valueOf(gpus), env.getOrDefault("PINGVAS_WORKER_SLOTS", "1"))) {
      v.add(worker.id() + ": engine " + engine + " needs nvidia.com/gpu = worker.slots, has " + gpus);
    }
    if (!tolerates) {
      v.add(worker.id() + ": does not tolerate the nvidia.com/gpu taint: it can never schedule on GPU nodes");
    }
    if (pool == null) {
      v.add(worker.id() + ": no gpu NodePool to run on");
      return;
    }
    Map<String, Object> poolLabels = Obj.map(pool.tree(), "spec", "template", "metadata", "labels");
    if (nodeSelector.isEmpty() || !References.matches(poolLabels, nodeSelector)) {
      v.add(worker.id() + ": nodeSelector " + nodeSelector + " does not pick the gpu NodePool " + poolLabels);
    }
    if (!"true".equals(Obj.str(worker.tree(), "spec", "template", "metadata", "annotations", "karpenter.sh/do-not-disrupt"))) {
      v.add(worker.id() + ": pods lack karpenter.sh/do-not-disrupt: Karpenter may drain a busy node");
    }
    Number grace = (Number) Obj.at(podSpec, "terminationGracePeriodSeconds");
    String nodeGrace = Obj.str(pool.tree(), "spec", "template", "spec", "terminationGracePeriod");
    if (nodeGrace == null || grace == null || Checks.Durations.parse(nodeGrace).compareTo(Duration.ofSeconds(grace.longValue())) < 0) {
      v.add(pool.id() + ": terminationGracePeriod " + nodeGrace + " is shorter than the worker's " + grace + " s");
    }
    Obj scaler = r.find("ScaledObject", "worker");
    Object limit = Obj.at(pool.tree(), "spec", "limits", "nvidia.com/gpu");
    if (scaler != null && limit != null) {
      Number max = (Number) Obj.at(scaler.tree(), "spec", "maxReplicaCount");
      if (max == null || max.longValue() > Long.parseLong(limit.toString())) {
        v.add(scaler.id() + ": maxReplicaCount " + max + " exceeds the NodePool's " + limit + " GPUs");
      }
      Number min = (Number) Obj.at(scaler.tree(), "spec", "minReplicaCount");
      if (min == null || min.intValue() != 0) {
        v.add(scaler.id() + ": minReplicaCount must be 0 so idle GPUs cost nothing");
      }
    }
  }
}
