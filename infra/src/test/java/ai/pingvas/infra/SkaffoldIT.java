package ai.pingvas.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** skaffold.yaml is valid v4beta13 and agrees with the Maven reactor and the Kustomize overlays. */
class SkaffoldIT {
  private static final Reactor REACTOR = Reactor.load(Repo.ROOT);

  @Test
  void skaffoldConfigMatchesSchemaModulesAndManifests() {
    assertThat(SkaffoldCheck.problems(Repo.ROOT.resolve("skaffold.yaml"), REACTOR)).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "schema-typo.yaml         | schema: document 0: /build/artifacts/0/jib: must NOT have additional properties 'projekt'",
      "schema-typo.yaml         | schema: document 0: /manifests: must NOT have additional properties 'kustomise'",
      "unknown-module.yaml      | jib.project :image-service is not a module of the root pom.xml",
      "jib-disabled.yaml        | module verticles/platform skips Jib",
      "missing-manifests.yaml   | manifest path k8s/overlays/no-such-overlay does not resolve",
      "image-mismatch.yaml      | the image of module worker is ghcr.io/pingvas/worker",
      "image-mismatch.yaml      | module verticles/generation-service has Jib enabled but skaffold does not build it",
      "rollouts-unselected.yaml | resourceSelector.allow must let skaffold rewrite images of Rollout.argoproj.io",
  })
  void brokenFixtureIsCaught(String fixture, String expected) {
    Path file = Repo.FIXTURES.resolve("skaffold").resolve(fixture);
    assertThat(SkaffoldCheck.problems(file, REACTOR)).anySatisfy(p -> assertThat(p).contains(expected));
  }
}
