package io.creditledger.domain;

import java.util.List;

/**
 * Where a grant's credits are after rollovers. A rollover grant remembers each source grant and the credits it
 * brought, in order (oldest source first), and how many of those refunds took back later. Spending from a
 * rollover grant is attributed to its sources first to last, the ledger's usual oldest-first order, so what is
 * left of a rollover belongs to its newest sources. With {@code live = credits - revoked} per source and
 * {@code spent = sum(live) - remaining(rollover)}, source k still has
 * {@code max(0, live_k - max(0, spent - sum(live before k)))} in the rollover. A rollover's own remaining is its
 * balance while it is open (never below zero), or its share of the rollover it moved into, and so on along the
 * chain. Taking credits back from one source lowers its {@code revoked}, the rollover's balance and that source's
 * share by the same amount and leaves the other sources' shares as they were.
 */
public final class RolloverShares {
  private RolloverShares() {
  }

  /** What one source brought into a rollover, and how much of it refunds took back. */
  public record Share(long credits, long revoked) {
    long live() {
      return credits - revoked;
    }
  }

  /** One rollover on the way: its sources in spending order, and which of them the chain arrived through. */
  public record Level(List<Share> sources, int index) {
  }

  /**
   * What is left of the chain's first grant.
   *
   * @param chain the rollovers from the first grant's own (first) to the open grant at the end (last)
   * @param endRemaining the remaining credits of the last rollover (its balance; revoked: 0)
   */
  public static long remaining(List<Level> chain, long endRemaining) {
    long remaining = Math.max(0, endRemaining);
    for (int k = chain.size() - 1; k >= 0; k--) {
      remaining = shareOf(chain.get(k), remaining);
    }
    return remaining;
  }

  /** The credits of {@code level.index()}'s source still in a rollover that has {@code rolloverRemaining} left. */
  static long shareOf(Level level, long rolloverRemaining) {
    long total = 0;
    long before = 0;
    for (int i = 0; i < level.sources().size(); i++) {
      long live = level.sources().get(i).live();
      if (i < level.index()) {
        before += live;
      }
      total += live;
    }
    long spent = Math.max(0, total - Math.max(0, rolloverRemaining));
    long live = level.sources().get(level.index()).live();
    return Math.max(0, live - Math.max(0, spent - before));
  }
}
