package io.creditledger.ledger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a reset rolls over: the remaining positive balances of the active purchase and rollover grants, all
 * moving into one new never-expiring rollover grant. Free, referral and admin credits do not roll over.
 */
public final class Rollover {
  private Rollover() {
  }

  /** @param sources the grants emptied into the new grant, oldest first; {@code total} their sum */
  public record Plan(List<Grant> sources, long total) {
  }

  public static Plan plan(List<Grant> grants, Instant now) {
    List<Grant> sources = new ArrayList<>();
    long total = 0;
    for (Grant g : grants) {
      if ((g.type() == GrantType.PURCHASE || g.type() == GrantType.ROLLOVER) && g.activeAt(now) && g.balance() > 0) {
        sources.add(g);
        total = Math.addExact(total, g.balance());
      }
    }
    sources.sort(Comparator.comparing(Grant::createdAt).thenComparingLong(Grant::grantId));
    return new Plan(List.copyOf(sources), total);
  }
}
