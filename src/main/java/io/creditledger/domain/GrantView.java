package io.creditledger.domain;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * A grant as the API shows it: the stored grant, its state as of a moment ({@code active}, {@code expired},
 * {@code revoked}, {@code rolled_over}) and how far its Stripe mirror got.
 */
public record GrantView(long grantId, String operationId, String userId, GrantType type, int priority, long principal,
                        long balance, long cents, BigDecimal centsPerCredit, Instant expiresAt, String description,
                        String state, Instant createdAt, Instant closedAt, String closeReason, StripeSync stripe) {

  /**
   * @param state {@code not_mirrored}, {@code pending}, {@code synced} or {@code dead}
   * @param voided whether the Stripe grant was voided
   */
  public record StripeSync(String state, String stripeGrantId, boolean voided) {
  }

  /** A new grant and how much of the user's debt it paid. */
  public record Created(GrantView grant, long debtSettled) {
  }

  /** A grant after a revoke and how many credits the revoke removed. */
  public record Revoked(GrantView grant, long revoked) {
  }

  /** As of {@code now}, for a grant just written (a mirrored one is pending until the relay sends it). */
  public static GrantView of(Grant g, Instant now) {
    return of(g, now, g.mirrored() ? Boolean.FALSE : null);
  }

  /** @param openRowDead null when the grant has no undelivered outbox rows, else whether one of them is dead */
  public static GrantView of(Grant g, Instant now, Boolean openRowDead) {
    String sync;
    if (!g.mirrored()) {
      sync = "not_mirrored";
    } else if (openRowDead != null) {
      sync = openRowDead ? "dead" : "pending";
    } else {
      sync = g.stripeGrantId() != null ? "synced" : "pending";
    }
    return new GrantView(g.grantId(), g.operationId(), g.userId(), g.type(), g.priority(), g.principal(), g.balance(),
        g.cents(), g.centsPerCredit(), g.expiresAt(), g.description(), state(g, now), g.createdAt(), g.closedAt(),
        g.closeReason(), new StripeSync(sync, g.stripeGrantId(), g.stripeVoidedAt() != null));
  }

  /** active, expired, revoked or rolled_over, as of {@code now}. */
  public static String state(Grant g, Instant now) {
    if (g.closedBy() != null) {
      return g.closedBy().state();
    }
    return g.expiredAt(now) ? "expired" : "active";
  }
}
