package ai.pingvas.gallery.storage;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import net.coobird.thumbnailator.Thumbnails;

/** Makes the JPEG thumbnail of an image (Thumbnailator's quality downscaling). CPU work: call off the event loop. */
public final class Thumbnailer {
  static {
    System.setProperty("java.awt.headless", "true");
  }

  public static final String CONTENT_TYPE = "image/jpeg";
  private final int maxSide;
  private final double quality;

  public Thumbnailer(int maxSide, double quality) {
    this.maxSide = maxSide;
    this.quality = quality;
  }

  /** The thumbnail key of an image: beside it, same name with a {@code .thumb.jpg} suffix. */
  public static String keyOf(String imageKey) {
    int dot = imageKey.lastIndexOf('.');
    int slash = imageKey.lastIndexOf('/');
    String stem = dot > slash ? imageKey.substring(0, dot) : imageKey;
    return stem + ".thumb.jpg";
  }

  /** The thumbnail of an encoded image, fitting in {@code maxSide} x {@code maxSide}, never enlarged. */
  public byte[] thumbnail(byte[] image) throws IOException {
    BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(image));
    if (decoded == null) {
      throw new IOException("not a readable image");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    var builder = Thumbnails.of(decoded);
    if (Math.max(decoded.getWidth(), decoded.getHeight()) > maxSide) {
      builder.size(maxSide, maxSide).keepAspectRatio(true);
    } else {
      builder.scale(1.0);
    }
    builder.imageType(BufferedImage.TYPE_INT_RGB)
        .outputFormat("jpg")
        .outputQuality(quality)
        .toOutputStream(out);
    return out.toByteArray();
  }
}
