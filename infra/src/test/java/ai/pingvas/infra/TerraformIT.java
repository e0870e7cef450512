package ai.pingvas.infra;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.infra.TerraformPolicy.Violation;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every .tf in the repository parses and passes the policy; terraform fmt agrees; the fixtures prove both fail. */
class TerraformIT {
  private static final Path STACK = Repo.ROOT.resolve("infra/terraform");
  private static final Path POLICY_FIXTURES = Repo.FIXTURES.resolve("terraform");

  @Test
  void everyTerraformFileParsesAndPassesPolicy() {
    List<Path> files = Repo.files(".", f -> f.toString().endsWith(".tf") || f.toString().endsWith(".tfvars"));
    assertThat(files).as("Terraform files in the repository").isNotEmpty()
        .anyMatch(f -> f.startsWith(STACK.resolve("environments")));

    // Each directory of .tf files is its own stack (Terraform's unit); tfvars belong to the stack above them.
    Map<Path, List<Path>> stacks = new TreeMap<>();
    for (Path f : files) {
      Path dir = f.toString().endsWith(".tfvars") && f.getParent().endsWith("environments")
          ? f.getParent().getParent() : f.getParent();
      stacks.computeIfAbsent(dir, d -> new ArrayList<>()).add(f);
    }
    List<Violation> violations = new ArrayList<>();
    stacks.forEach((dir, stackFiles) -> violations.addAll(TerraformPolicy.check(parse(stackFiles))));
    assertThat(violations).as("policy violations").isEmpty();
  }

  @Test
  void policyBaselineFixtureIsClean() {
    assertThat(TerraformPolicy.check(parse(fixture("_base")))).isEmpty();
  }

  @ParameterizedTest(name = "{0} breaks {1}")
  @CsvSource({
      "module-unpinned, module-pinned",
      "module-git-unpinned, module-pinned",
      "provider-unpinned, provider-pinned",
      "chart-unpinned, chart-pinned",
      "module-untagged, tags-module",
      "provider-untagged, tags-provider",
      "locals-twice, tags-locals",
      "rds-public, public",
      "rds-unencrypted, encryption",
      "bucket-public, public",
      "bucket-unencrypted, encryption",
      "bucket-raw, encryption",
      "ingress-open, public",
      "api-open, public",
      "tfvars-open, public",
      "kafka-plaintext, encryption",
      "kms-unrotated, encryption",
      "state-unencrypted, encryption",
      "state-unlocked, state-locking",
  })
  void brokenFixtureIsCaught(String fixture, String rule) {
    List<Violation> violations = TerraformPolicy.check(parse(fixture(fixture)));
    assertThat(violations).as(fixture).isNotEmpty().allSatisfy(v -> assertThat(v.rule()).isEqualTo(rule));
  }

  @Test
  void unparsableTerraformFails() {
    Path broken = Repo.FIXTURES.resolve("terraform-syntax/broken.tf");
    Command c = Command.node("hcl2json", List.of(broken.toString()));
    assertThat(c.exit()).as(c.output()).isNotZero();
    assertThat(c.err()).contains("broken.tf");
  }

  @Test
  void terraformFormatting() {
    Path terraform = Command.onPath("terraform").orElse(null);
    Assumptions.assumeTrue(terraform != null, "terraform is not installed: fmt -check skipped");
    Command stack = Command.run(STACK, List.of(terraform.toString(), "fmt", "-check", "-recursive", "-no-color"));
    assertThat(stack.exit()).as("terraform fmt -check -recursive infra/terraform:\n" + stack.output()).isZero();

    Command fixture = Command.run(Repo.FIXTURES.resolve("terraform-fmt"),
        List.of(terraform.toString(), "fmt", "-check", "-recursive", "-no-color"));
    assertThat(fixture.exit()).isNotZero();
    assertThat(fixture.out()).contains("unformatted.tf");
  }

  /** The fixture stack: the clean baseline plus the one broken file of the case. */
  private static List<Path> fixture(String name) {
    List<Path> files = new ArrayList<>(list(POLICY_FIXTURES.resolve("_base")));
    if (!name.equals("_base")) {
      List<Path> broken = list(POLICY_FIXTURES.resolve(name));
      assertThat(broken).as("fixture " + name).isNotEmpty();
      files.addAll(broken);
    }
    return files;
  }

  private static List<Path> list(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Map<String, JsonObject> parse(List<Path> files) {
    Command c = Command.node("hcl2json", files.stream().map(Path::toString).toList());
    assertThat(c.exit()).as("hcl2json:\n" + c.err()).isZero();
    JsonObject all = new JsonObject(c.out());
    Map<String, JsonObject> parsed = new TreeMap<>();
    for (String file : all.fieldNames()) {
      parsed.put(Repo.relative(Path.of(file)), all.getJsonObject(file));
    }
    return parsed;
  }
}
