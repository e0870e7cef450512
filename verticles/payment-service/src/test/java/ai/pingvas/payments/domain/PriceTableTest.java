package ai.pingvas.payments.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PriceTableTest {
  private final PriceTable prices = new PriceTable(PriceTable.parseModels(List.of("sd-1.5:10", "sdxl:25")), 20,
      512 * 512, 30, 1);

  @Test
  void chargesTheModelsBasePriceAtTheReferenceSizeAndSteps() {
    assertThat(prices.price("sd-1.5", 512, 512, 30, 1)).isEqualTo(10);
    assertThat(prices.price("sdxl", 512, 512, 30, 1)).isEqualTo(25);
    assertThat(prices.price("unknown", 512, 512, 30, 1)).isEqualTo(20);
  }

  @Test
  void scalesWithPixelsStepsAndCountRoundingUp() {
    assertThat(prices.price("sd-1.5", 1024, 1024, 30, 1)).isEqualTo(40);
    assertThat(prices.price("sd-1.5", 512, 512, 60, 1)).isEqualTo(20);
    assertThat(prices.price("sd-1.5", 512, 512, 31, 1)).isEqualTo(11);
    assertThat(prices.price("sd-1.5", 1024, 1024, 30, 4)).isEqualTo(160);
  }

  @Test
  void neverChargesLessThanTheMinimumPerImage() {
    assertThat(prices.price("sd-1.5", 64, 64, 1, 3)).isEqualTo(3);
  }

  @Test
  void topsUpOncePerMonthAndTier() {
    Allowance allowance = new Allowance(Map.of("free", 200L, "pro", 5000L, "studio", 20000L));
    Instant november = Instant.parse("2026-11-30T23:59:59Z");
    Allowance.Grant grant = allowance.grantFor("u1", "free", november);
    assertThat(grant.ref()).isEqualTo("allowance:u1:2026-11:free");
    assertThat(allowance.grantFor("u1", "free", Instant.parse("2026-12-01T00:00:00Z")).ref())
        .isEqualTo("allowance:u1:2026-12:free");
    assertThat(allowance.grantFor("u1", "pro", november).ref()).isEqualTo("allowance:u1:2026-11:pro");
    assertThat(allowance.grantFor("u1", "bogus", november).target()).isEqualTo(200);
    assertThat(Allowance.topUp(grant, 150)).isEqualTo(50);
    assertThat(Allowance.topUp(grant, 300)).isZero();
  }
}
