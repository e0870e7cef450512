package ai.pingvas.generation.http;

import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Refuses request bodies that are not valid UTF-8 (JSON decoding would silently replace bytes). */
final class Utf8Check implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body != null && body.length() > 0) {
      try {
        StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(body.getBytes()));
      } catch (CharacterCodingException e) {
        ctx.fail(ApiException.badRequest("invalid_utf8", "the request body is not valid UTF-8"));
        return;
      }
    }
    ctx.next();
  }
}
