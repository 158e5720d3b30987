package io.creditledger.domain;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.creditledger.domain.Grants.NOW;
import static io.creditledger.domain.Grants.grant;
import static io.creditledger.domain.GrantType.FREE;
import static io.creditledger.domain.GrantType.PURCHASE;
import static org.assertj.core.api.Assertions.assertThat;

class DebtAndBalanceTest {

  @Test
  void newCreditsSettleTheOldestDebtsFirstAsFarAsTheyReach() {
    Grant older = grant(1, FREE, 100, -30, NOW.minusSeconds(10), NOW.minusSeconds(900));
    Grant newer = grant(2, PURCHASE, 100, -50, null, NOW.minusSeconds(100));
    Grant positive = grant(3, PURCHASE, 40);
    List<DebtSettlement.Payment> payments = DebtSettlement.settle(60, List.of(newer, positive, older));
    assertThat(payments).extracting(p -> p.debtor().grantId() + "=" + p.amount()).containsExactly("1=30", "2=30");
    assertThat(DebtSettlement.settle(500, List.of(newer, older))).extracting(DebtSettlement.Payment::amount)
        .containsExactly(30L, 50L);
    assertThat(DebtSettlement.settle(10, List.of(positive))).isEmpty();
  }

  @Test
  void balanceCountsActiveCreditsAndAllDebt() {
    Grant free = grant(1, FREE, 500, 300, NOW.plusSeconds(3600), NOW.minusSeconds(100));
    Grant purchase = grant(2, PURCHASE, 1000, 800, null, NOW.minusSeconds(90));
    Grant expired = grant(3, FREE, 200, 200, NOW.minusSeconds(1), NOW.minusSeconds(500));
    Grant expiredDebt = grant(4, FREE, 100, -40, NOW.minusSeconds(1), NOW.minusSeconds(400));
    Balance b = Balance.of(List.of(free, purchase, expired, expiredDebt), 60, NOW, 400, NOW.plusSeconds(3600));
    assertThat(b.totalRemaining()).isEqualTo(1100);
    assertThat(b.totalDebt()).isEqualTo(40);
    assertThat(b.netBalance()).isEqualTo(1060);
    assertThat(b.held()).isEqualTo(60);
    assertThat(b.available()).as("net less what holds reserve").isEqualTo(1000);
    assertThat(b.breakdown().get(GrantType.FREE)).isEqualTo(300);
    assertThat(b.breakdown().get(GrantType.PURCHASE)).isEqualTo(800);
    assertThat(b.breakdown().get(GrantType.ADMIN)).isZero();
    assertThat(b.principals().get(GrantType.FREE)).isEqualTo(500);
    assertThat(b.principals().get(GrantType.PURCHASE)).isEqualTo(1000);
    assertThat(b.usageThisCycle()).isEqualTo(400);
  }

  @Test
  void expirySweepZeroesExpiredCreditsButKeepsDebt() {
    Grant expired = grant(1, FREE, 200, 120, NOW.minusSeconds(1), NOW.minusSeconds(500));
    Grant expiredDebt = grant(2, FREE, 100, -40, NOW.minusSeconds(1), NOW.minusSeconds(400));
    Grant active = grant(3, PURCHASE, 50);
    JournalBatch batch = new JournalBatch();
    Expiry.sweep(List.of(expired, expiredDebt, active), batch, NOW);
    assertThat(batch.entries()).hasSize(1);
    assertThat(batch.entries().get(0).kind()).isEqualTo(JournalKind.EXPIRY);
    assertThat(batch.entries().get(0).delta()).isEqualTo(-120);
    assertThat(batch.balanceOf(expired)).isZero();
    assertThat(batch.balanceOf(expiredDebt)).isEqualTo(-40);
  }
}
