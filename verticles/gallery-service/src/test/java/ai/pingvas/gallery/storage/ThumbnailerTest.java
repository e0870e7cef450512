package ai.pingvas.gallery.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ThumbnailerTest {
  private final Thumbnailer thumbnailer = new Thumbnailer(256, 0.85);

  private static byte[] png(int width, int height) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB), "png", out);
    return out.toByteArray();
  }

  @Test
  void fitsTheLongestSideKeepingTheAspectRatio() throws IOException {
    BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(thumbnailer.thumbnail(png(1024, 768))));
    assertThat(thumb.getWidth()).isEqualTo(256);
    assertThat(thumb.getHeight()).isEqualTo(192);
  }

  @Test
  void neverEnlargesASmallImage() throws IOException {
    BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(thumbnailer.thumbnail(png(64, 32))));
    assertThat(thumb.getWidth()).isEqualTo(64);
    assertThat(thumb.getHeight()).isEqualTo(32);
  }

  @Test
  void refusesBytesThatAreNoImage() {
    assertThatThrownBy(() -> thumbnailer.thumbnail(new byte[] {1, 2, 3})).isInstanceOf(IOException.class);
  }

  @Test
  void storesTheThumbnailBesideTheImage() {
    assertThat(Thumbnailer.keyOf("images/u/j/1-0.png")).isEqualTo("images/u/j/1-0.thumb.jpg");
  }
}
