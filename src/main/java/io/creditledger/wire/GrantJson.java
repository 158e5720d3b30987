package io.creditledger.wire;

import io.creditledger.domain.Grant;
import io.creditledger.money.CentsPerCredit;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** A grant as the API shows it. */
public final class GrantJson {
  private GrantJson() {
  }

  /** active, expired, revoked or rolled_over, as of {@code now}. */
  public static String state(Grant g, Instant now) {
    if (g.closedBy() != null) {
      return g.closedBy().state();
    }
    return g.expiredAt(now) ? "expired" : "active";
  }

  /** As of {@code now}, for a grant just written (a mirrored one is pending until the relay sends it). */
  public static JsonObject of(Grant g, Instant now) {
    return of(g, now, g.mirrored() ? Boolean.FALSE : null);
  }

  /**
   * @param openRowDead null when the grant has no undelivered outbox rows, else whether one of them is dead
   */
  public static JsonObject of(Grant g, Instant now, Boolean openRowDead) {
    String sync;
    if (!g.mirrored()) {
      sync = "not_mirrored";
    } else if (openRowDead != null) {
      sync = openRowDead ? "dead" : "pending";
    } else {
      sync = g.stripeGrantId() != null ? "synced" : "pending";
    }
    return new JsonObject()
        .put("grantId", g.grantId())
        .put("operationId", g.operationId())
        .put("userId", g.userId())
        .put("type", g.type().wire())
        .put("priority", g.priority())
        .put("principal", g.principal())
        .put("balance", g.balance())
        .put("cents", g.cents())
        .put("centsPerCredit", CentsPerCredit.normalize(g.centsPerCredit()).toPlainString())
        .put("expiresAt", g.expiresAt() == null ? null : g.expiresAt().toString())
        .put("description", g.description())
        .put("state", state(g, now))
        .put("createdAt", g.createdAt().toString())
        .put("closedAt", g.closedAt() == null ? null : g.closedAt().toString())
        .put("closeReason", g.closeReason())
        .put("stripe", new JsonObject()
            .put("state", sync)
            .put("stripeGrantId", g.stripeGrantId())
            .put("voided", g.stripeVoidedAt() != null));
  }
}
