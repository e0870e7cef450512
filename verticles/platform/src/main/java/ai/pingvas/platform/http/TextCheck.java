package ai.pingvas.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Refuses request text that no service can store: a body that is not valid UTF-8 (JSON decoding
 * would silently replace its bytes), and the NUL character (U+0000) anywhere in a JSON body or, as
 * {@code %00}, in the URI. Postgres text and jsonb cannot hold NUL: a statement carrying one fails,
 * and with it every submission batched into the same statement, so it is refused here as the
 * client's 400, naming where it is. A root handler of every service's API, after the body handler.
 */
public final class TextCheck implements Handler<RoutingContext> {
  private static final byte[] NUL_ESCAPE = {'u', '0', '0', '0', '0'};

  @Override
  public void handle(RoutingContext ctx) {
    String uri = ctx.request().uri();
    if (uri != null && uri.contains("%00")) {
      ctx.fail(ApiException.badRequest("invalid_uri", "the request URI contains %00 (the NUL character), "
          + "which no identifier or parameter can hold"));
      return;
    }
    Buffer body = ctx.body().buffer();
    if (body != null && body.length() > 0) {
      byte[] bytes = body.getBytes();
      try {
        StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes));
      } catch (CharacterCodingException e) {
        ctx.fail(ApiException.badRequest("invalid_utf8", "the request body is not valid UTF-8"));
        return;
      }
      if (mayHoldNul(bytes)) {
        String pointer = nulPointer(body);
        if (pointer != null) {
          ctx.fail(ApiException.validation(pointer + ": must not contain the NUL character (U+0000)",
              new JsonArray().add(new JsonObject().put("pointer", pointer)
                  .put("detail", "must not contain the NUL character (U+0000)"))));
          return;
        }
      }
    }
    ctx.next();
  }

  /**
   * Whether the bytes hold a NUL byte or a {@code \u0000} escape (a backslash preceded by an even
   * number of backslashes). A quick scan that lets almost every body through without parsing it.
   */
  static boolean mayHoldNul(byte[] bytes) {
    for (int i = 0; i < bytes.length; i++) {
      byte b = bytes[i];
      if (b == 0) {
        return true;
      }
      if (b == '\\') {
        if (i + 1 < bytes.length && bytes[i + 1] == '\\') {
          i++; // an escaped backslash
          continue;
        }
        if (i + NUL_ESCAPE.length < bytes.length) {
          boolean nul = true;
          for (int k = 0; k < NUL_ESCAPE.length && nul; k++) {
            nul = bytes[i + 1 + k] == NUL_ESCAPE[k];
          }
          if (nul) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /**
   * The JSON pointer of the first string (or object key) holding NUL, "/" when the body is such a
   * string; null if none does or the body is not JSON (left to the contract's validation).
   */
  static String nulPointer(Buffer body) {
    Object value;
    try {
      value = Json.decodeValue(body);
    } catch (DecodeException e) {
      return null;
    }
    return find(value, "");
  }

  @SuppressWarnings("unchecked")
  private static String find(Object value, String at) {
    if (value instanceof String s) {
      return s.indexOf('\0') >= 0 ? (at.isEmpty() ? "/" : at) : null;
    }
    if (value instanceof JsonObject o) {
      value = o.getMap();
    } else if (value instanceof JsonArray a) {
      value = a.getList();
    }
    if (value instanceof Map<?, ?> map) {
      for (Map.Entry<String, Object> entry : ((Map<String, Object>) map).entrySet()) {
        String here = at + "/" + entry.getKey().replace("~", "~0").replace("/", "~1");
        if (entry.getKey().indexOf('\0') >= 0) {
          return here.replace("\0", "\\u0000");
        }
        String found = find(entry.getValue(), here);
        if (found != null) {
          return found;
        }
      }
    } else if (value instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        String found = find(list.get(i), at + "/" + i);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }
}
