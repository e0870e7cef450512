package ai.pingvas.users.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyPolicyTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final KeyPolicy policy = new KeyPolicy(Duration.ofDays(30), Duration.ofMinutes(10), Duration.ofMinutes(16));

  @Test
  void theFirstKeySignsAtOnceLaterOnesAfterThePublishAhead() {
    assertThat(policy.signsFrom(List.of(), T0)).isEqualTo(T0);
    assertThat(policy.signsFrom(List.of(key("a", T0)), T0.plusSeconds(5))).isEqualTo(T0.plusSeconds(605));
  }

  @Test
  void aPendingKeyIsPublishedButDoesNotSignBeforeItsTime() {
    SigningKey old = key("old", T0);
    SigningKey next = key("next", T0.plus(Duration.ofDays(30)).plus(Duration.ofMinutes(10)));
    Instant beforeSwitch = T0.plus(Duration.ofDays(30)).plusSeconds(1);
    assertThat(policy.signer(List.of(old, next), beforeSwitch)).contains(old);
    assertThat(policy.published(List.of(old, next), beforeSwitch)).containsExactly(old, next);
  }

  @Test
  void aReplacedKeyStaysPublishedUntilItsLastTokensExpire() {
    SigningKey old = key("old", T0);
    Instant switchAt = T0.plus(Duration.ofDays(30));
    SigningKey next = key("next", switchAt);
    assertThat(policy.signer(List.of(old, next), switchAt)).contains(next);
    assertThat(policy.published(List.of(old, next), switchAt.plus(Duration.ofMinutes(15)))).containsExactly(old, next);
    assertThat(policy.published(List.of(old, next), switchAt.plus(Duration.ofMinutes(16)))).containsExactly(next);
  }

  @Test
  void rotationIsDueWhenNoKeyExistsOrTheNewestIsOld() {
    assertThat(policy.rotationDue(List.of(), T0)).isTrue();
    assertThat(policy.rotationDue(List.of(key("a", T0)), T0.plus(Duration.ofDays(29)))).isFalse();
    assertThat(policy.rotationDue(List.of(key("a", T0)), T0.plus(Duration.ofDays(30)))).isTrue();
    // a pending key counts as the newest: no second rotation while one is waiting to sign
    assertThat(policy.rotationDue(List.of(key("a", T0), key("b", T0.plus(Duration.ofDays(30)).plusSeconds(600))),
        T0.plus(Duration.ofDays(30)).plusSeconds(1))).isFalse();
  }

  private static SigningKey key(String kid, Instant signsFrom) {
    return new SigningKey(kid, new JsonObject().put("kid", kid), new byte[0], signsFrom);
  }
}
