package io.creditledger.outbox;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * One row of the Stripe outbox. {@code stripeGrantId} is the Stripe id of the row's grant as known when the
 * row was claimed (what a void needs); {@code firstAttemptAt} is when it was first claimed for sending.
 */
public record OutboxRow(long outboxId, long grantId, String grantOperationId, String userId, String action,
                        String idempotencyKey, JsonObject payload, String status, int attempts,
                        Instant nextAttemptAt, String lastError, String stripeObjectId, String stripeGrantId,
                        Instant createdAt, Instant deliveredAt, Instant firstAttemptAt) {
  public static final String CREATE = "create_credit_grant";
  public static final String VOID = "void_credit_grant";

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
        .put("action", action)
        .put("idempotencyKey", idempotencyKey)
        .put("status", status)
        .put("attempts", attempts)
        .put("nextAttemptAt", nextAttemptAt == null ? null : nextAttemptAt.toString())
        .put("lastError", lastError)
        .put("stripeObjectId", stripeObjectId)
        .put("payload", payload)
        .put("createdAt", createdAt.toString())
        .put("deliveredAt", deliveredAt == null ? null : deliveredAt.toString());
  }
}
