package ai.pingvas.protocol;

import io.vertx.core.json.JsonObject;

/** Where image {@code index} of an attempt goes: a presigned PUT URL for one object key. */
public record UploadSlot(int index, String key, String putUrl, long expiresAtEpochMs) {
  public JsonObject toJson() {
    return new JsonObject().put("index", index).put("key", key).put("put_url", putUrl)
        .put("expires_at", expiresAtEpochMs);
  }

  public static UploadSlot fromJson(JsonObject json) {
    return new UploadSlot((int) Json.num(json, "index"), Json.str(json, "key"), Json.str(json, "put_url"),
        Json.num(json, "expires_at"));
  }
}
