package ai.pingvas.worker.engine.invokeai;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;

/** InvokeAI answered a request with an error status; {@code detail} is FastAPI's error text. */
final class InvokeAiException extends RuntimeException {
  private final int status;

  InvokeAiException(int status, String detail) {
    super("InvokeAI answered " + status + ": " + detail, null, false, false);
    this.status = status;
  }

  int status() {
    return status;
  }

  static InvokeAiException of(HttpResponse<Buffer> response) {
    String detail;
    try {
      Object value = response.bodyAsJsonObject().getValue("detail");
      detail = value instanceof String s ? s : String.valueOf(value);
    } catch (RuntimeException e) {
      detail = response.bodyAsString();
    }
    return new InvokeAiException(response.statusCode(), detail);
  }
}
