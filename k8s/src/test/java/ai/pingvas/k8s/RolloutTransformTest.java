package ai.pingvas.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Proves the Rollout transform component (components/rollout-transform) works: the overlay's images:,
 * replicas: and hashed ConfigMap names all reach the Rollouts. Without it, replicas: fails to build
 * (fixture overlay-without-rollout-transform) and Rollouts would keep pointing at unhashed ConfigMaps.
 */
class RolloutTransformTest {
  @Test
  void overlayImagesReplicasAndConfigNamesReachEveryRollout() {
    for (String env : List.of("dev", "prod")) {
      Rendered r = ManifestChecksTest.rendered(env);
      List<Obj> rollouts = r.ofKind("Rollout");
      assertThat(rollouts).hasSize(5);
      String tagPrefix = env.equals("prod") ? "main-" : "develop-";
      int replicas = env.equals("prod") ? 3 : 1;
      for (Obj ro : rollouts) {
        Object container = ro.get("spec", "template", "spec", "containers", 0);
        assertThat(Obj.str(container, "image")).as(ro.id()).startsWith("ghcr.io/pingvas/" + ro.name() + ":" + tagPrefix);
        assertThat(ro.get("spec", "replicas")).as(ro.id()).isEqualTo(replicas);
        String config = Obj.str(container, "envFrom", 0, "configMapRef", "name");
        assertThat(config).as(ro.id()).matches(ro.name() + "-config-[a-z0-9]{10}");
        assertThat(r.find("ConfigMap", config)).as(config).isNotNull();
      }
    }
  }

  @Test
  void withoutTheComponentReplicasOnARolloutDoNotBuild() {
    Kubectl.Result result = Kubectl.kustomize(Repo.k8s().resolve("checks/fixtures/overlay-without-rollout-transform"));
    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("does not match a config").contains("Deployment");
  }
}
