package io.creditledger.domain;

import java.util.EnumSet;
import java.util.Set;

/** What a change of balance tells the host: the net balance fell below the low mark, or debt grew. */
public final class BalanceSignals {
  private BalanceSignals() {
  }

  /**
   * {@code balance.low} when the net balance went from at least {@code lowThreshold} to below it (once per crossing:
   * a balance already below stays quiet until it has been back up); {@code balance.debt} when the debt grew.
   * A threshold of 0 raises no {@code balance.low}.
   */
  public static Set<EventType> of(Balance before, Balance after, long lowThreshold) {
    Set<EventType> signals = EnumSet.noneOf(EventType.class);
    if (lowThreshold > 0 && before.netBalance() >= lowThreshold && after.netBalance() < lowThreshold) {
      signals.add(EventType.BALANCE_LOW);
    }
    if (after.totalDebt() > before.totalDebt()) {
      signals.add(EventType.BALANCE_DEBT);
    }
    return signals;
  }
}
