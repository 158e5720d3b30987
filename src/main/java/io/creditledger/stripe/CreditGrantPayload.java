package io.creditledger.stripe;

import io.creditledger.domain.Grant;
import io.vertx.core.json.JsonObject;

/**
 * What a local grant becomes in Stripe Billing: a monetary credit grant worth the grant's cents, {@code paid}
 * for purchase and rollover credits and {@code promotional} otherwise, with the grant's priority (clamped to
 * Stripe's 0-100), expiry and identifying metadata.
 */
public final class CreditGrantPayload {
  static final int NAME_MAX = 100;
  static final int KEY_MAX = 255;

  private CreditGrantPayload() {
  }

  public static JsonObject create(Grant grant, String currency) {
    return create(grant, grant.cents(), currency, createKey(grant));
  }

  /**
   * A Stripe credit grant worth {@code cents} for the grant; {@code key} (its Idempotency-Key) travels in the
   * metadata as {@code mirrorKey}, so a webhook about it finds its outbox row.
   */
  public static JsonObject create(Grant grant, long cents, String currency, String key) {
    String name = grant.description().length() > NAME_MAX ? grant.description().substring(0, NAME_MAX)
        : grant.description();
    return new JsonObject()
        .put("customer", grant.stripeCustomerId())
        .put("amountCents", cents)
        .put("currency", currency)
        .put("category", grant.type().paid() ? "paid" : "promotional")
        .put("priority", Math.max(0, Math.min(100, grant.priority())))
        .put("expiresAt", grant.expiresAt() == null ? null : grant.expiresAt().getEpochSecond())
        .put("name", name)
        .put("metadata", new JsonObject()
            .put("operationId", grant.operationId())
            .put("userId", grant.userId())
            .put("grantType", grant.type().wire())
            .put("credits", Long.toString(grant.principal()))
            .put("mirrorKey", key));
  }

  public static String createKey(Grant grant) {
    return "ledger-create-" + grant.operationId();
  }

  public static String voidKey(Grant grant) {
    return "ledger-void-" + grant.operationId();
  }

  /** The void of the grant's current mirror before the replacement made after {@code revokeOperationId}. */
  public static String voidBeforeKey(Grant grant, String revokeOperationId) {
    return key("ledger-void-" + grant.operationId() + "-before-" + revokeOperationId);
  }

  /** The replacement mirror made after {@code revokeOperationId} took credits from the grant. */
  public static String replacementKey(Grant grant, String revokeOperationId) {
    return key("ledger-create-" + grant.operationId() + "-after-" + revokeOperationId);
  }

  /** Stripe's Idempotency-Key holds at most 255 characters: a longer key is shortened to a digest of itself. */
  public static String key(String full) {
    if (full.length() <= KEY_MAX) {
      return full;
    }
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest(full.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return full.substring(0, 150) + "-" + java.util.HexFormat.of().formatHex(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
