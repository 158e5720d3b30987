package io.creditledger.domain;

import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * A ledger user as the API shows it. {@code centsPerCredit} travels as a decimal string ("0.5"), the way
 * Stripe writes its decimal amounts, so no client has to read money through a float. {@code referralLimit} is the
 * user's own limit of referrals, null when {@code REFERRAL_LIMIT} applies.
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

  public JsonObject toJson() {
    return new JsonObject()
        .put("userId", userId)
        .put("email", email)
        .put("stripeCustomerId", stripeCustomerId)
        .put("centsPerCredit", centsPerCredit.toPlainString())
        .put("billingAnchorDay", billingAnchorDay)
        .put("nextQuotaReset", nextQuotaReset.toString())
        .put("usageThisCycle", usageThisCycle)
        .put("referralLimit", referralLimit)
        .put("createdAt", createdAt.toString())
        .put("updatedAt", updatedAt.toString());
  }

  public static User fromJson(JsonObject j) {
    return new User(
        j.getString("userId"),
        j.getString("email"),
        j.getString("stripeCustomerId"),
        new BigDecimal(j.getString("centsPerCredit")),
        j.getInteger("billingAnchorDay"),
        Instant.parse(j.getString("nextQuotaReset")),
        j.getLong("usageThisCycle"),
        j.getInteger("referralLimit"),
        Instant.parse(j.getString("createdAt")),
        Instant.parse(j.getString("updatedAt")));
  }
}
