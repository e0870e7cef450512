package ai.pingvas.users.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordHasherTest {
  private final PasswordHasher hasher = new PasswordHasher(4096, 1, 1);

  @Test
  void verifiesTheRightPasswordAndRefusesAnyOther() {
    String hash = hasher.hash("correct horse battery");
    assertThat(hasher.verify("correct horse battery", hash)).isTrue();
    assertThat(hasher.verify("correct horse batterY", hash)).isFalse();
    assertThat(hasher.verify("", hash)).isFalse();
  }

  @Test
  void saltsEveryHashAndRecordsItsParameters() {
    String a = hasher.hash("same password");
    String b = hasher.hash("same password");
    assertThat(a).isNotEqualTo(b).startsWith("$argon2id$v=19$m=4096,t=1,p=1$");
  }

  @Test
  void verifiesHashesMadeWithOtherParameters() {
    String strong = new PasswordHasher(8192, 2, 1).hash("upgrade me");
    assertThat(hasher.verify("upgrade me", strong)).isTrue();
  }

  @Test
  void refusesMalformedOrMissingHashes() {
    assertThat(hasher.verify("x", null)).isFalse();
    assertThat(hasher.verify("x", "$2a$10$bcryptlooking")).isFalse();
    assertThat(hasher.verify("x", "$argon2i$v=19$m=4096,t=1,p=1$c2FsdA$aGFzaA")).isFalse();
  }
}
