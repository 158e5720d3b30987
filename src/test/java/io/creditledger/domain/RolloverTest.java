package io.creditledger.domain;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.List;

import static io.creditledger.domain.Grants.NOW;
import static io.creditledger.domain.Grants.closed;
import static io.creditledger.domain.Grants.grant;
import static io.creditledger.domain.GrantType.ADMIN;
import static io.creditledger.domain.GrantType.FREE;
import static io.creditledger.domain.GrantType.PURCHASE;
import static io.creditledger.domain.GrantType.REFERRAL;
import static io.creditledger.domain.GrantType.ROLLOVER;
import static org.assertj.core.api.Assertions.assertThat;

class RolloverTest {

  @Test
  void movesWhatIsLeftOfPurchaseAndRolloverGrantsOnly() {
    Grant purchase = grant(1, PURCHASE, 300);
    Grant oldRollover = grant(2, ROLLOVER, 50);
    Grant free = grant(3, FREE, 80);
    Grant referral = grant(4, REFERRAL, 20);
    Grant admin = grant(5, ADMIN, 1000);
    Grant spent = grant(6, PURCHASE, 0);
    Grant inDebt = grant(7, PURCHASE, 100, -30, null, NOW.minusSeconds(10));
    Grant revoked = closed(grant(8, PURCHASE, 70));
    Grant expired = grant(9, PURCHASE, 40, 40, NOW.minusSeconds(1), NOW.minusSeconds(100));
    Rollover.Plan plan = Rollover.plan(List.of(free, purchase, referral, oldRollover, admin, spent, inDebt, revoked,
        expired), NOW);
    assertThat(plan.total()).isEqualTo(350);
    assertThat(plan.sources()).extracting(Grant::grantId).containsExactly(1L, 2L);
  }

  @Test
  void aPurchaseWithAnExpiryOfItsOwnKeepsItAndDoesNotRollOver() {
    Grant dated = grant(1, PURCHASE, 500, 500, NOW.plusSeconds(86_400), NOW.minusSeconds(100));
    Grant plain = grant(2, PURCHASE, 200);
    assertThat(Rollover.plan(List.of(dated, plain), NOW).sources()).extracting(Grant::grantId).containsExactly(2L);
  }

  @Test
  void theRolloverIsWorthEachSourcesCreditsAtItsOwnPriceRoundedDown() {
    // 800 credits bought for 1200 cents (1.5 each), 799 left: 1198.5 cents, so 1198, never 1199
    Grant dearer = new Grant(1, "u", "op-1", PURCHASE, 80, 800, 799, 1200, new BigDecimal("1.5"), null, "", NOW.minusSeconds(50),
        null, null, null, null, null, null, null);
    // 100 credits at 0.25: 25 cents, 40 left: 10 cents
    Grant cheaper = new Grant(2, "u", "op-2", PURCHASE, 80, 100, 40, 25, new BigDecimal("0.25"), null, "", NOW.minusSeconds(40),
        null, null, null, null, null, null, null);
    Rollover.Plan plan = Rollover.plan(List.of(cheaper, dearer), NOW);
    assertThat(plan.total()).isEqualTo(839);
    assertThat(plan.cents()).isEqualTo(1198 + 10);
    assertThat(plan.sources()).extracting(Grant::grantId).as("oldest first").containsExactly(1L, 2L);
  }

  @Test
  void aRolloverCarriedOverWholeKeepsItsExactValue() {
    Grant rollover = new Grant(1, "u", "op-1", ROLLOVER, 60, 333, 333, 499, new BigDecimal("1.4985"), null, "", NOW.minusSeconds(50),
        null, null, null, null, null, null, null);
    assertThat(Rollover.plan(List.of(rollover), NOW).cents()).isEqualTo(499);
  }

  @Test
  void nothingToRollOver() {
    assertThat(Rollover.plan(List.of(grant(1, FREE, 10)), NOW).total()).isZero();
    assertThat(Rollover.plan(List.of(), NOW).sources()).isEmpty();
  }
}
