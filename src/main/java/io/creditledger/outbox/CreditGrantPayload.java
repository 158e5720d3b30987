package io.creditledger.outbox;

import io.creditledger.ledger.Grant;
import io.vertx.core.json.JsonObject;

/**
 * What a local grant becomes in Stripe Billing: a monetary credit grant worth the grant's cents, {@code paid}
 * for purchase and rollover credits and {@code promotional} otherwise, with the grant's priority (clamped to
 * Stripe's 0-100), expiry and identifying metadata.
 */
public final class CreditGrantPayload {
  static final int NAME_MAX = 100;

  private CreditGrantPayload() {
  }

  public static JsonObject create(Grant grant, String currency) {
    String name = grant.description().length() > NAME_MAX ? grant.description().substring(0, NAME_MAX)
        : grant.description();
    return new JsonObject()
        .put("customer", grant.stripeCustomerId())
        .put("amountCents", grant.cents())
        .put("currency", currency)
        .put("category", grant.type().paid() ? "paid" : "promotional")
        .put("priority", Math.max(0, Math.min(100, grant.priority())))
        .put("expiresAt", grant.expiresAt() == null ? null : grant.expiresAt().getEpochSecond())
        .put("name", name)
        .put("metadata", new JsonObject()
            .put("operationId", grant.operationId())
            .put("userId", grant.userId())
            .put("grantType", grant.type().wire())
            .put("credits", Long.toString(grant.principal())));
  }

  public static String createKey(Grant grant) {
    return "ledger-create-" + grant.operationId();
  }

  public static String voidKey(Grant grant) {
    return "ledger-void-" + grant.operationId();
  }
}
