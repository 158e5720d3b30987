package io.creditledger.domain;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a reset rolls over: the remaining positive balances of the active rollover grants and of the active
 * purchase grants without an expiry of their own, all moving into one new never-expiring rollover grant. Free,
 * referral and admin credits do not roll over, and neither does a purchase given an explicit {@code expiresAt}:
 * it keeps that expiry and counts until then, across resets.
 *
 * <p>The rollover grant is worth what its sources' remaining credits were worth, each at its own price:
 * {@code floor(cents × remaining / principal)} per source, summed. So credits are never re-priced at today's
 * price, a rollover carried over whole keeps its exact value, and nothing is rounded up again each cycle.
 */
public final class Rollover {
  private Rollover() {
  }

  /**
   * @param sources the grants emptied into the new grant, oldest first (the order their credits are spent in)
   * @param total their remaining credits
   * @param cents what those credits are worth
   */
  public record Plan(List<Grant> sources, long total, long cents) {
  }

  public static boolean rollsOver(Grant g, Instant now) {
    boolean kind = g.type() == GrantType.ROLLOVER || (g.type() == GrantType.PURCHASE && g.expiresAt() == null);
    return kind && g.activeAt(now) && g.balance() > 0;
  }

  public static Plan plan(List<Grant> grants, Instant now) {
    List<Grant> sources = new ArrayList<>();
    long total = 0;
    long cents = 0;
    for (Grant g : grants) {
      if (rollsOver(g, now)) {
        sources.add(g);
        total = Math.addExact(total, g.balance());
        cents = Math.addExact(cents, worth(g, g.balance()));
      }
    }
    sources.sort(Comparator.comparing(Grant::createdAt).thenComparingLong(Grant::grantId));
    return new Plan(List.copyOf(sources), total, cents);
  }

  /** {@code floor(cents × credits / principal)}: what {@code credits} of the grant are worth at its own price. */
  public static long worth(Grant g, long credits) {
    return BigInteger.valueOf(g.cents()).multiply(BigInteger.valueOf(credits))
        .divide(BigInteger.valueOf(g.principal())).longValueExact();
  }
}
