package io.creditledger.domain;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * One row of the Stripe outbox: a credit grant's create or void, or a usage report (no grant). {@code stripeGrantId}
 * is the Stripe id of the row's grant as known when the row was claimed (what a void needs, unless the row names
 * the Stripe grant to void itself); {@code firstAttemptAt} is when it was first claimed for sending.
 */
public record OutboxRow(long outboxId, Long grantId, String grantOperationId, String userId, OutboxAction action,
                        String idempotencyKey, JsonObject payload, OutboxStatus status, int attempts,
                        Instant nextAttemptAt, String lastError, String stripeObjectId, String stripeGrantId,
                        Instant createdAt, Instant deliveredAt, Instant firstAttemptAt) {
  /** The Stripe grant a void is for: the one the row names (a repair), else the grant's current mirror. */
  public String voidTarget() {
    String named = payload.getString("stripeGrantId");
    return named != null ? named : stripeGrantId;
  }

  /** A create that replaces the grant's voided mirror after a partial revoke. */
  public boolean replacement() {
    return payload.getBoolean("replacement", false);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("outboxId", outboxId)
        .put("grantId", grantId)
        .put("grantOperationId", grantOperationId)
        .put("userId", userId)
        .put("action", action.wire())
        .put("idempotencyKey", idempotencyKey)
        .put("status", status.wire())
        .put("attempts", attempts)
        .put("nextAttemptAt", nextAttemptAt == null ? null : nextAttemptAt.toString())
        .put("lastError", lastError)
        .put("stripeObjectId", stripeObjectId)
        .put("payload", payload)
        .put("createdAt", createdAt.toString())
        .put("deliveredAt", deliveredAt == null ? null : deliveredAt.toString());
  }
}
