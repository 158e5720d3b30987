package io.creditledger.domain;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;

/** Grants for pure-logic tests, with the default priorities. */
final class Grants {
  static final Instant NOW = Instant.parse("2026-03-10T12:00:00Z");
  static final Map<GrantType, Integer> PRIORITY = Map.of(GrantType.FREE, 20, GrantType.REFERRAL, 40,
      GrantType.ROLLOVER, 60, GrantType.ORGANIZATION, 70, GrantType.PURCHASE, 80, GrantType.ADMIN, 100);

  private Grants() {
  }

  static Grant grant(long id, GrantType type, long principal, long balance, Instant expiresAt, Instant createdAt) {
    return new Grant(id, "u", "op-" + id, type, PRIORITY.get(type), principal, balance, principal, BigDecimal.ONE,
        expiresAt, "g" + id, createdAt, null, null, null, null, null, null, null);
  }

  static Grant grant(long id, GrantType type, long balance) {
    return grant(id, type, Math.max(balance, 1), balance, null, NOW.minusSeconds(1000 - id));
  }

  static Grant closed(Grant g) {
    return new Grant(g.grantId(), g.userId(), g.operationId(), g.type(), g.priority(), g.principal(), g.balance(),
        g.cents(), g.centsPerCredit(), g.expiresAt(), g.description(), g.createdAt(), NOW, CloseReason.REVOKE, "test", null, null,
        null, null);
  }
}
