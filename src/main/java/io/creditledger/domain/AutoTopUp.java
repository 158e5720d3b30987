package io.creditledger.domain;

import java.time.Instant;

/**
 * A user's auto top-up: when a consumption or capture leaves the net balance below {@code threshold}, or the user in
 * debt, a purchase of {@code amount} credits (more when the debt is larger) is charged to the saved card, one at a
 * time ({@code inFlight}: the operationId of the top-up being paid).
 *
 * @param started how many top-ups were started; the next is {@code topup/<userId>/<started + 1>}
 */
public record AutoTopUp(String userId, boolean enabled, long threshold, long amount, String paymentMethodId,
                        String inFlight, int started, Instant lastAttemptAt, String lastError, String disabledReason) {

  /** Whether a balance left by a consumption or capture starts a top-up. */
  public boolean due(Balance after) {
    return enabled && inFlight == null && (after.netBalance() < threshold || after.totalDebt() > 0);
  }

  /** The credits a top-up buys: {@code amount}, or the whole debt when that is larger, so the debt is paid off. */
  public long credits(Balance after) {
    return Math.max(amount, after.totalDebt());
  }

  /** These settings once the next top-up ({@link #nextOperationId}) has started at {@code now}. */
  public AutoTopUp started(Instant now) {
    return new AutoTopUp(userId, enabled, threshold, amount, paymentMethodId, nextOperationId(), started + 1, now,
        lastError, disabledReason);
  }

  public String nextOperationId() {
    return operationId(userId, started + 1);
  }

  public static String operationId(String userId, int n) {
    return PREFIX + userId + "/" + n;
  }

  /** Whether {@code operationId} names a top-up. */
  public static boolean isTopUp(String operationId) {
    return operationId != null && operationId.startsWith(PREFIX);
  }

  private static final String PREFIX = "topup/";
}
