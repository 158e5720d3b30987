package io.creditledger.domain;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * A ledger user. {@code centsPerCredit} is what one credit costs the user, an exact decimal; {@code referralLimit}
 * is the user's own limit of referrals, null when {@code REFERRAL_LIMIT} applies.
 */
public record User(
    String userId,
    String email,
    String stripeCustomerId,
    BigDecimal centsPerCredit,
    int billingAnchorDay,
    Instant nextQuotaReset,
    long usageThisCycle,
    Integer referralLimit,
    Instant createdAt,
    Instant updatedAt) {

  /** The user as a reset leaves it: usage back to zero, the next cycle ending at {@code nextReset}. */
  public User startingCycle(Instant nextReset) {
    return new User(userId, email, stripeCustomerId, centsPerCredit, billingAnchorDay, nextReset, 0, referralLimit,
        createdAt, updatedAt);
  }


}
