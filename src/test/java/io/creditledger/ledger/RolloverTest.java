package io.creditledger.ledger;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.creditledger.ledger.Grants.NOW;
import static io.creditledger.ledger.Grants.closed;
import static io.creditledger.ledger.Grants.grant;
import static io.creditledger.ledger.GrantType.ADMIN;
import static io.creditledger.ledger.GrantType.FREE;
import static io.creditledger.ledger.GrantType.PURCHASE;
import static io.creditledger.ledger.GrantType.REFERRAL;
import static io.creditledger.ledger.GrantType.ROLLOVER;
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
  void nothingToRollOver() {
    assertThat(Rollover.plan(List.of(grant(1, FREE, 10)), NOW).total()).isZero();
    assertThat(Rollover.plan(List.of(), NOW).sources()).isEmpty();
  }
}
