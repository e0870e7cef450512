package ai.pingvas.worker.engine;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.imageio.ImageIO;

/**
 * Deterministic "generative art" for the procedural engine: domain-warped fractal noise coloured
 * by a palette derived from the prompt. The same (prompt, seed, width, height) always gives the
 * same pixels, so tests can compare outputs byte for byte.
 */
public final class ProceduralArt {
  static {
    System.setProperty("java.awt.headless", "true");
    // Encode in memory: ImageIO's disk cache registers a JVM shutdown hook on first use, which fails
    // ("Shutdown in progress") when a draining worker encodes its first PNG after SIGTERM.
    ImageIO.setUseCache(false);
  }

  private ProceduralArt() {
  }

  /** Renders an image. Pure CPU work: call it off the event loop. */
  public static BufferedImage render(String prompt, long seed, int width, int height) {
    long key = mix(fnv(prompt) ^ (seed * 0x9E3779B97F4A7C15L));
    int[] palette = palette(key);
    double scale = 3.0 / Math.max(width, height);
    double ox = (key & 0xffff) / 997.0;
    double oy = ((key >>> 16) & 0xffff) / 991.0;
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int[] row = new int[width];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        double px = x * scale + ox;
        double py = y * scale + oy;
        double wx = fbm(px + 1.7, py + 9.2, key) * 2.0;
        double wy = fbm(px + 8.3, py + 2.8, key + 1) * 2.0;
        double n = fbm(px + wx, py + wy, key + 2);
        row[x] = gradient(palette, Math.min(1, Math.max(0, n)));
      }
      image.setRGB(0, y, width, 1, row, 0, width);
    }
    return image;
  }

  public static byte[] png(BufferedImage image) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(image.getWidth() * image.getHeight());
      if (!ImageIO.write(image, "png", out)) {
        throw new IllegalStateException("no PNG writer available");
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A small preview: the final image blended with noise by how far along the job is. */
  public static String preview(BufferedImage thumbnail, double done, long seed) {
    int w = thumbnail.getWidth();
    int h = thumbnail.getHeight();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    double a = Math.pow(Math.max(0, Math.min(1, done)), 0.7);
    long state = mix(seed ^ Double.doubleToLongBits(done));
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        state = mix(state + 0x632BE59BD9B4E019L);
        int noise = (int) (state >>> 40) & 0xff;
        int rgb = thumbnail.getRGB(x, y);
        int r = (int) (((rgb >> 16) & 0xff) * a + noise * (1 - a));
        int g = (int) (((rgb >> 8) & 0xff) * a + noise * (1 - a));
        int b = (int) ((rgb & 0xff) * a + noise * (1 - a));
        out.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(png(out));
  }

  /** Downscales by sampling (previews only need the gist). */
  public static BufferedImage thumbnail(BufferedImage image, int maxSide) {
    double f = (double) maxSide / Math.max(image.getWidth(), image.getHeight());
    int w = Math.max(1, (int) Math.round(image.getWidth() * f));
    int h = Math.max(1, (int) Math.round(image.getHeight() * f));
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        out.setRGB(x, y, image.getRGB(Math.min(image.getWidth() - 1, (int) (x / f)),
            Math.min(image.getHeight() - 1, (int) (y / f))));
      }
    }
    return out;
  }

  private static double fbm(double x, double y, long key) {
    double sum = 0;
    double amp = 0.5;
    for (int octave = 0; octave < 4; octave++) {
      sum += amp * valueNoise(x, y, key + octave);
      x *= 2.03;
      y *= 2.03;
      amp *= 0.5;
    }
    return sum;
  }

  private static double valueNoise(double x, double y, long key) {
    long xi = (long) Math.floor(x);
    long yi = (long) Math.floor(y);
    double fx = x - xi;
    double fy = y - yi;
    double u = fx * fx * (3 - 2 * fx);
    double v = fy * fy * (3 - 2 * fy);
    double a = lattice(xi, yi, key);
    double b = lattice(xi + 1, yi, key);
    double c = lattice(xi, yi + 1, key);
    double d = lattice(xi + 1, yi + 1, key);
    return a + (b - a) * u + (c - a) * v + (a - b - c + d) * u * v;
  }

  private static double lattice(long x, long y, long key) {
    long h = mix(x * 0x9E3779B97F4A7C15L ^ y * 0xC2B2AE3D27D4EB4FL ^ key);
    return (h >>> 11) / (double) (1L << 53);
  }

  private static int[] palette(long key) {
    int[] colors = new int[5];
    for (int i = 0; i < colors.length; i++) {
      long h = mix(key + i * 0x2545F4914F6CDD1DL);
      float hue = (float) (((h >>> 8) & 0xffff) / 65535.0);
      float sat = 0.45f + ((h >>> 24) & 0xff) / 255f * 0.5f;
      float bri = 0.25f + i * 0.17f;
      colors[i] = java.awt.Color.HSBtoRGB(hue, sat, Math.min(1f, bri));
    }
    return colors;
  }

  private static int gradient(int[] palette, double t) {
    double pos = t * (palette.length - 1);
    int i = Math.min(palette.length - 2, (int) pos);
    double f = pos - i;
    int c0 = palette[i];
    int c1 = palette[i + 1];
    int r = (int) (((c0 >> 16) & 0xff) * (1 - f) + ((c1 >> 16) & 0xff) * f);
    int g = (int) (((c0 >> 8) & 0xff) * (1 - f) + ((c1 >> 8) & 0xff) * f);
    int b = (int) ((c0 & 0xff) * (1 - f) + (c1 & 0xff) * f);
    return (r << 16) | (g << 8) | b;
  }

  private static long fnv(String text) {
    long h = 0xcbf29ce484222325L;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      h ^= b;
      h *= 0x100000001b3L;
    }
    return h;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
