package io.creditledger.domain;

import java.time.Instant;
import java.util.List;

/**
 * What one user's reset did: {@code reset} false when the user was not due (only {@code nextQuotaReset} then); else
 * the cycle that ended, the credits that expired and rolled over, and the operationIds of the grants it made.
 */
public record ResetOutcome(String userId, boolean reset, Instant cycleEnded, Instant nextQuotaReset, long expired,
                           long rolledOver, List<String> grants) {

  public static ResetOutcome notDue(String userId, Instant nextQuotaReset) {
    return new ResetOutcome(userId, false, null, nextQuotaReset, 0, 0, List.of());
  }
}
