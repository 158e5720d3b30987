package io.creditledger.domain;

import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * A grant as the API shows it. {@code state} is active, expired, revoked or rolled_over; {@code debtSettled}
 * (on a new grant) is how much of the user's debt it paid; {@code revoked} (on a revoke) how much it removed.
 */
public record GrantView(long grantId, String operationId, String userId, String type, int priority, long principal,
                        long balance, long cents, BigDecimal centsPerCredit, Instant expiresAt, String description,
                        String state, Instant createdAt, Instant closedAt, String closeReason, JsonObject json) {

  public static GrantView fromJson(JsonObject j) {
    return new GrantView(j.getLong("grantId"), j.getString("operationId"), j.getString("userId"),
        j.getString("type"), j.getInteger("priority"), j.getLong("principal"), j.getLong("balance"),
        j.getLong("cents"), new BigDecimal(j.getString("centsPerCredit")), instant(j, "expiresAt"),
        j.getString("description"), j.getString("state"), instant(j, "createdAt"), instant(j, "closedAt"),
        j.getString("closeReason"), j);
  }

  private static Instant instant(JsonObject j, String key) {
    String v = j.getString(key);
    return v == null ? null : Instant.parse(v);
  }
}
