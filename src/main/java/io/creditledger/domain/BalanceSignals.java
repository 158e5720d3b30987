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
    if (crossed(before, after, lowThreshold)) {
      signals.add(EventType.BALANCE_LOW);
    }
    if (after.totalDebt() > before.totalDebt()) {
      signals.add(EventType.BALANCE_DEBT);
    }
    return signals;
  }

  /** The highest of {@code thresholds} the net balance fell below (from at least it), or 0 when none. */
  public static long highestCrossed(Balance before, Balance after, long... thresholds) {
    long highest = 0;
    for (long t : thresholds) {
      if (crossed(before, after, t) && t > highest) {
        highest = t;
      }
    }
    return highest;
  }

  private static boolean crossed(Balance before, Balance after, long threshold) {
    return threshold > 0 && before.netBalance() >= threshold && after.netBalance() < threshold;
  }
}
