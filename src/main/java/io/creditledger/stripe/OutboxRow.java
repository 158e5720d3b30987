package io.creditledger.stripe;

import io.creditledger.domain.OutboxAction;
import io.creditledger.domain.OutboxStatus;
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

  /** The credits an auto top-up's charge ({@code create_payment_intent}) buys, from its metadata. */
  public long topUpCredits() {
    return Long.parseLong(payload.getJsonObject("metadata").getString("credits"));
  }

  /** A create that replaces the grant's voided mirror after a partial revoke. */
  public boolean replacement() {
    return payload.getBoolean("replacement", false);
  }

}
