package io.creditledger.domain;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * One credit grant as stored. {@code principal} is what was granted and never changes; {@code balance} is
 * what is left (negative when the grant carries debt).
 */
public record Grant(
    long grantId,
    String userId,
    String operationId,
    GrantType type,
    int priority,
    long principal,
    long balance,
    long cents,
    BigDecimal centsPerCredit,
    Instant expiresAt,
    String description,
    Instant createdAt,
    Instant closedAt,
    CloseReason closedBy,
    String closeReason,
    String stripeCustomerId,
    String stripeGrantId,
    Instant stripeVoidedAt,
    String paymentIntentId) {

  public boolean expiredAt(Instant now) {
    return expiresAt != null && !expiresAt.isAfter(now);
  }

  /** Takes part in consumption: not closed (revoked, rolled over) and not expired. */
  public boolean activeAt(Instant now) {
    return closedAt == null && !expiredAt(now);
  }

  /** Mirrored to Stripe: the user had a Stripe customer when the grant was made. */
  public boolean mirrored() {
    return stripeCustomerId != null;
  }

  public Grant withBalance(long newBalance) {
    return new Grant(grantId, userId, operationId, type, priority, principal, newBalance, cents, centsPerCredit,
        expiresAt, description, createdAt, closedAt, closedBy, closeReason, stripeCustomerId, stripeGrantId,
        stripeVoidedAt, paymentIntentId);
  }

  public Grant closed(Instant at, CloseReason by, String reason, String newDescription, long newBalance) {
    return new Grant(grantId, userId, operationId, type, priority, principal, newBalance, cents, centsPerCredit,
        expiresAt, newDescription, createdAt, at, by, reason, stripeCustomerId, stripeGrantId, stripeVoidedAt,
        paymentIntentId);
  }
}
