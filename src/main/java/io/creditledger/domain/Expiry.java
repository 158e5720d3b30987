package io.creditledger.domain;

import java.time.Instant;
import java.util.List;

/**
 * Journals the expiry of grants whose time has passed with credits left: their balance goes to zero with an
 * {@code expiry} entry. Debt on an expired grant is not touched: expiry never forgives debt.
 */
public final class Expiry {
  /** An expiry entry is filed under this and the grant's operationId. */
  public static final String OPERATION_PREFIX = "expiry/";

  private Expiry() {
  }

  public static void sweep(List<Grant> grants, JournalBatch batch, Instant now) {
    for (Grant g : grants) {
      long left = batch.balanceOf(g);
      if (g.closedAt() == null && g.expiredAt(now) && left > 0) {
        batch.add(g, -left, JournalKind.EXPIRY, OPERATION_PREFIX + g.operationId(), "Expired at " + g.expiresAt() + " with "
            + left + " credits left");
      }
    }
  }
}
