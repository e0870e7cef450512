package ai.pingvas.platform.db;

import ai.pingvas.platform.http.ApiException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.UUID;

/**
 * Opaque keyset-pagination cursor for "newest first" lists: the (created_at, id) of the last item
 * of a page. Pages stay stable while new rows arrive, unlike offsets.
 */
public record PageCursor(OffsetDateTime createdAt, UUID id) {

  public static PageCursor after(Instant createdAt, String id) {
    return new PageCursor(OffsetDateTime.ofInstant(createdAt, ZoneOffset.UTC), UUID.fromString(id));
  }

  public String encode() {
    String raw = createdAt.toInstant() + "|" + id;
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** Decodes a cursor this API returned; anything else is a 400 {@code invalid_cursor}. */
  public static PageCursor decode(String cursor) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      int bar = raw.indexOf('|');
      return new PageCursor(OffsetDateTime.ofInstant(Instant.parse(raw.substring(0, bar)), ZoneOffset.UTC),
          UUID.fromString(raw.substring(bar + 1)));
    } catch (RuntimeException e) {
      throw ApiException.badRequest("invalid_cursor", "cursor is not one this API returned");
    }
  }
}
