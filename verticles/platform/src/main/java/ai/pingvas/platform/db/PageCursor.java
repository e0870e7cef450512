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
  /**
   * The times a cursor may carry. Any row's creation time is well inside; a crafted one beyond
   * (e.g. year 20000, which {@link Instant#parse} takes) would otherwise reach Postgres as an
   * out-of-range timestamp and fail the listing with a 500 instead of this 400.
   */
  private static final Instant EARLIEST = Instant.EPOCH;
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999Z");

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
      Instant createdAt = Instant.parse(raw.substring(0, bar));
      if (createdAt.isBefore(EARLIEST) || createdAt.isAfter(LATEST)) {
        throw new IllegalArgumentException("out of range");
      }
      return new PageCursor(OffsetDateTime.ofInstant(createdAt, ZoneOffset.UTC), UUID.fromString(raw.substring(bar + 1)));
    } catch (RuntimeException e) {
      throw ApiException.badRequest("invalid_cursor", "cursor is not one this API returned");
    }
  }
}
