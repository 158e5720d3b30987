package io.creditledger.money;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CentsPerCreditTest {

  @Test
  void centsRoundUpAndCreditsRoundHalfUp() {
    assertThat(CentsPerCredit.centsFor(1000, new BigDecimal("1"))).isEqualTo(1000);
    assertThat(CentsPerCredit.centsFor(3, new BigDecimal("0.5"))).isEqualTo(2);
    assertThat(CentsPerCredit.centsFor(1, new BigDecimal("0.0001"))).isEqualTo(1);
    assertThat(CentsPerCredit.centsFor(7, new BigDecimal("2.25"))).isEqualTo(16);
    assertThat(CentsPerCredit.creditsFor(2, new BigDecimal("0.5"))).isEqualTo(4);
    assertThat(CentsPerCredit.creditsFor(16, new BigDecimal("2.25"))).isEqualTo(7);
    assertThat(CentsPerCredit.creditsFor(5, new BigDecimal("2"))).isEqualTo(3);
  }

  @Test
  void parsesAndNormalizes() {
    assertThat(CentsPerCredit.parse("1.5000").toPlainString()).isEqualTo("1.5");
    assertThat(CentsPerCredit.parse("100").toPlainString()).isEqualTo("100");
    assertThatThrownBy(() -> CentsPerCredit.parse("0")).hasMessage("must be greater than 0");
    assertThatThrownBy(() -> CentsPerCredit.parse("0.00001")).hasMessage("must have at most 4 decimal places");
    assertThatThrownBy(() -> CentsPerCredit.parse("1e9")).hasMessage("must be at most 1000000");
    assertThatThrownBy(() -> CentsPerCredit.parse("abc")).hasMessageContaining("decimal number");
  }
}
