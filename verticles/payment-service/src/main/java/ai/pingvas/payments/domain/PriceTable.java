package ai.pingvas.payments.domain;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a generation costs in credits: a per-model base price per image at the reference size and
 * steps, scaled by pixels and steps (rounded up), at least {@code minimum} per image, times count.
 */
public record PriceTable(Map<String, Long> perModel, long defaultPerImage, long referencePixels,
    long referenceSteps, long minimum) {

  public long price(String model, int width, int height, int steps, int count) {
    long base = perModel.getOrDefault(model, defaultPerImage);
    long numerator = base * width * height * steps;
    long denominator = referencePixels * referenceSteps;
    long perImage = Math.max(minimum, (numerator + denominator - 1) / denominator);
    return perImage * Math.max(1, count);
  }

  /** Parses {@code model:credits,model:credits}. */
  public static Map<String, Long> parseModels(List<String> entries) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String entry : entries) {
      int colon = entry.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("pricing.models entry '" + entry + "' is not model:credits");
      }
      out.put(entry.substring(0, colon).trim(), Long.parseLong(entry.substring(colon + 1).trim()));
    }
    return Map.copyOf(out);
  }
}
