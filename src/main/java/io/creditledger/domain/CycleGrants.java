package io.creditledger.domain;

import java.time.Instant;

/**
 * The operationIds of what a cycle grants, derived from the user and the cycle so a rerun finds them taken.
 * The '/' keeps them apart from every operationId a client can send.
 */
public final class CycleGrants {
  private CycleGrants() {
  }

  /** The free grant of the cycle ending at {@code cycleEnd}. */
  public static String free(String userId, Instant cycleEnd) {
    return "free/" + userId + "/" + cycleEnd;
  }

  /** The referral grant of the cycle ending at {@code cycleEnd}. */
  public static String referral(String userId, Instant cycleEnd) {
    return "referral/" + userId + "/" + cycleEnd;
  }

  /** The rollover made when the cycle ending at {@code boundary} closed. */
  public static String rollover(String userId, Instant boundary) {
    return "rollover/" + userId + "/" + boundary;
  }

  /** What a failed reset of the user is recorded under in {@code sync_failure}. */
  public static String resetFailure(String userId) {
    return "reset/" + userId;
  }

  /** The reset of the cycle ending at {@code boundary}. */
  public static String reset(String userId, Instant boundary) {
    return "reset/" + userId + "/" + boundary;
  }
}
