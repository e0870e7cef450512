package ai.pingvas.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** What commands print: JSON documents for --json, aligned tables and short lines for people. */
public final class Output {
  static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();
  static final Gson COMPACT = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

  private Output() {
  }

  /** A member as text, or null when it is missing or JSON null. */
  public static String string(JsonObject object, String name) {
    JsonElement value = object == null ? null : object.get(name);
    return value == null || value.isJsonNull() ? null : value.isJsonPrimitive() ? value.getAsString() : value.toString();
  }

  public static String string(JsonObject object, String name, String fallback) {
    String value = string(object, name);
    return value == null ? fallback : value;
  }

  public static JsonObject object(JsonObject object, String name) {
    JsonElement value = object == null ? null : object.get(name);
    return value != null && value.isJsonObject() ? value.getAsJsonObject() : new JsonObject();
  }

  public static void json(PrintWriter out, JsonElement element) {
    out.println(PRETTY.toJson(element));
    out.flush();
  }

  /** One JSON document per line (streams of events). */
  public static void jsonLine(PrintWriter out, JsonElement element) {
    out.println(COMPACT.toJson(element));
    out.flush();
  }

  /** A plain text table: a header row and columns padded to their widest cell (the last one is not padded). */
  public static void table(PrintWriter out, List<String> header, List<List<String>> rows) {
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    int[] widths = new int[header.size()];
    for (List<String> row : all) {
      for (int i = 0; i < row.size(); i++) {
        widths[i] = Math.max(widths[i], cell(row.get(i)).length());
      }
    }
    for (List<String> row : all) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        String value = cell(row.get(i));
        line.append(i == row.size() - 1 ? value : pad(value, widths[i] + 2));
      }
      out.println(line.toString().stripTrailing());
    }
    out.flush();
  }

  static String truncate(String text, int length) {
    if (text == null) {
      return "";
    }
    String flat = text.replaceAll("\\s+", " ");
    return flat.length() <= length ? flat : flat.substring(0, length - 1) + "…";
  }

  private static String cell(String value) {
    return value == null ? "-" : value;
  }

  private static String pad(String value, int width) {
    return value.length() >= width ? value : value + " ".repeat(width - value.length());
  }
}
