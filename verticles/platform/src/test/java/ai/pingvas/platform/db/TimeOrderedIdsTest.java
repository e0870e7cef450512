package ai.pingvas.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TimeOrderedIdsTest {
  @Test
  void idsAreVersion7WithTheRfcVariantAndTheirMillisecond() {
    long now = System.currentTimeMillis();
    UUID id = TimeOrderedIds.at(now);
    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(TimeOrderedIds.epochMillis(id)).isEqualTo(now);
    // the text form starts with the time's 12 hex digits, as Postgres sorts it
    assertThat(id.toString().replace("-", "")).startsWith(String.format("%012x", now));
    assertThat(UUID.fromString(id.toString())).isEqualTo(id);
  }

  @Test
  void idsOfLaterMillisecondsSortAfterEarlierOnes() {
    List<String> texts = new ArrayList<>();
    for (long t = 1_700_000_000_000L; t < 1_700_000_000_000L + 1_000; t += 7) {
      texts.add(TimeOrderedIds.at(t).toString());
    }
    // Postgres orders uuids by their bytes, i.e. as their lowercase text
    assertThat(texts).isSorted();
  }

  @Test
  void idsOfOneMillisecondDifferInTheirRandomBits() {
    Set<UUID> ids = new HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      ids.add(TimeOrderedIds.at(1_700_000_000_000L));
    }
    assertThat(ids).hasSize(100_000);
    // every one of the 74 random bits varies across them (a stuck bit would halve the id space)
    long highOr = 0;
    long highAnd = -1;
    long lowOr = 0;
    long lowAnd = -1;
    for (UUID id : ids) {
      highOr |= id.getMostSignificantBits();
      highAnd &= id.getMostSignificantBits();
      lowOr |= id.getLeastSignificantBits();
      lowAnd &= id.getLeastSignificantBits();
    }
    assertThat((highOr ^ highAnd) & 0x0FFFL).isEqualTo(0x0FFFL);
    assertThat((lowOr ^ lowAnd) & 0x3FFF_FFFF_FFFF_FFFFL).isEqualTo(0x3FFF_FFFF_FFFF_FFFFL);
  }

  @Test
  void timesOutsideTheFieldAndOtherVersionsAreRefused() {
    assertThatThrownBy(() -> TimeOrderedIds.at(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TimeOrderedIds.at(1L << 48)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TimeOrderedIds.epochMillis(UUID.randomUUID()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a UUIDv7");
  }
}
