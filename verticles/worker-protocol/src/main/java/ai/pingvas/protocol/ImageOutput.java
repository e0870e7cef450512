package ai.pingvas.protocol;

import io.vertx.core.json.JsonObject;

/** An image a worker uploaded for an attempt. */
public record ImageOutput(int index, String key, int width, int height, long seed, long sizeBytes, String sha256) {
  public JsonObject toJson() {
    return new JsonObject().put("index", index).put("key", key).put("width", width).put("height", height)
        .put("seed", seed).put("size_bytes", sizeBytes).put("sha256", sha256);
  }

  public static ImageOutput fromJson(JsonObject json) {
    // an S3 key is at most 1,024 bytes; neither may hold NUL, which the job's row cannot store
    return new ImageOutput((int) Json.num(json, "index"), Json.name(json, "key", 1024), (int) Json.num(json, "width"),
        (int) Json.num(json, "height"), Json.num(json, "seed"), Json.num(json, "size_bytes"),
        Json.name(json, "sha256", 128));
  }
}
