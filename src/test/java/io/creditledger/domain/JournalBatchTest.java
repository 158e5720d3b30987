package io.creditledger.domain;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

class JournalBatchTest {

  @Test
  void aGrantOpenedAndLeftAtItsPrincipalIsNotWrittenAgain() {
    JournalBatch batch = new JournalBatch();
    Grant opened = Grants.grant(1, GrantType.FREE, 100);
    batch.open(opened, JournalKind.GRANT, "free");

    assertThat(batch.balanceOf(opened)).isEqualTo(100);
    assertThat(batch.balancesToWrite()).isEmpty();
    assertThat(batch.entries()).hasSize(1);
  }

  @Test
  void aGrantOpenedAndThenSpentFromIsWritten() {
    JournalBatch batch = new JournalBatch();
    Grant opened = Grants.grant(1, GrantType.FREE, 100);
    batch.open(opened, JournalKind.GRANT, "free");
    batch.add(opened, -30, JournalKind.DEBT_SETTLEMENT, "op-grant", null);

    assertThat(batch.balancesToWrite()).containsExactly(
        entry(1L, new JournalBatch.BalanceChange(100, 70)));
  }

  @Test
  void aGrantReadUnderTheLockKeepsItsGuardedUpdateEvenWhenItsBalanceEndsWhereItStarted() {
    JournalBatch batch = new JournalBatch();
    Grant read = Grants.grant(2, GrantType.PURCHASE, 50);
    batch.add(read, -10, JournalKind.CONSUME, "op-a", null);
    batch.add(read, 10, JournalKind.DEBT_SETTLEMENT, "op-b", null);

    assertThat(batch.balancesToWrite()).containsExactly(
        entry(2L, new JournalBatch.BalanceChange(50, 50)));
  }
}
