package io.creditledger.domain;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BalanceSignalsTest {
  private static Balance net(long remaining, long debt) {
    return new Balance(remaining, debt, remaining - debt, 0, remaining - debt, Map.of(), Map.of(), 0,
        Instant.parse("2026-02-01T00:00:00Z"));
  }

  @Test
  void lowOnlyWhenTheNetBalanceCrossesTheThreshold() {
    assertThat(BalanceSignals.of(net(150, 0), net(99, 0), 100)).containsExactly(EventType.BALANCE_LOW);
    assertThat(BalanceSignals.of(net(100, 0), net(99, 0), 100)).containsExactly(EventType.BALANCE_LOW);
    assertThat(BalanceSignals.of(net(150, 0), net(100, 0), 100)).isEmpty();
    assertThat(BalanceSignals.of(net(99, 0), net(50, 0), 100)).as("already below: no new crossing").isEmpty();
    assertThat(BalanceSignals.of(net(150, 0), net(0, 0), 0)).as("threshold 0: off").isEmpty();
  }

  @Test
  void theHighestThresholdCrossedCounts() {
    assertThat(BalanceSignals.highestCrossed(net(250, 0), net(50, 0), 100, 200)).isEqualTo(200);
    assertThat(BalanceSignals.highestCrossed(net(150, 0), net(50, 0), 100, 200)).isEqualTo(100);
    assertThat(BalanceSignals.highestCrossed(net(150, 0), net(120, 0), 100, 200)).isZero();
    assertThat(BalanceSignals.highestCrossed(net(150, 0), net(50, 0), 0, 0)).isZero();
  }

  @Test
  void debtWheneverItGrows() {
    assertThat(BalanceSignals.of(net(10, 0), net(0, 5), 0)).containsExactly(EventType.BALANCE_DEBT);
    assertThat(BalanceSignals.of(net(0, 5), net(0, 8), 0)).containsExactly(EventType.BALANCE_DEBT);
    assertThat(BalanceSignals.of(net(0, 5), net(0, 5), 0)).isEmpty();
    assertThat(BalanceSignals.of(net(150, 0), net(0, 20), 100))
        .containsExactlyInAnyOrder(EventType.BALANCE_LOW, EventType.BALANCE_DEBT);
  }
}
