package ai.pingvas.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.platform.http.ApiException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class PageCursorTest {
  private static String cursor(String raw) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aCursorThisApiReturnedDecodesToTheSameRow() {
    String id = UUID.randomUUID().toString();
    Instant at = Instant.parse("2026-11-29T21:00:00.123456Z");
    PageCursor decoded = PageCursor.decode(PageCursor.after(at, id).encode());
    assertThat(decoded.createdAt().toInstant()).isEqualTo(at);
    assertThat(decoded.id()).hasToString(id);
  }

  @Test
  void aTimeOutsideWhatPostgresStoresIsA400NotAFailedQuery() {
    String id = UUID.randomUUID().toString();
    for (String time : new String[] {"+20000-01-01T00:00:00Z", "+1000000000-01-01T00:00:00Z",
        "-4714-01-01T00:00:00Z", "1969-12-31T23:59:59Z"}) {
      assertThatThrownBy(() -> PageCursor.decode(cursor(time + "|" + id))).as(time)
          .isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("invalid_cursor");
          });
    }
    assertThat(PageCursor.decode(cursor("9999-12-31T00:00:00Z|" + id)).id()).hasToString(id);
  }

  @Test
  void anythingElseIsA400() {
    for (String raw : new String[] {"no bar", "2026-11-29T21:00:00Z|not-a-uuid", "yesterday|" + UUID.randomUUID()}) {
      assertThatThrownBy(() -> PageCursor.decode(cursor(raw))).as(raw).isInstanceOf(ApiException.class);
    }
    assertThatThrownBy(() -> PageCursor.decode("%%%")).isInstanceOf(ApiException.class);
  }
}
