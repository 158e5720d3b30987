package io.creditledger.domain;

import java.time.Instant;
import java.util.List;

/** One reconciliation of the Stripe mirror with Stripe: what it checked and the drift it found (and repaired). */
public record ReconcileRun(long runId, String userId, boolean repair, int checked, boolean repaired,
                           List<DriftReport> drift, Instant startedAt, Instant finishedAt) {

  /** One drift as reported: the kind, and each side as it stood (null when that side has nothing). */
  public record DriftReport(String userId, String operationId, String stripeGrantId, MirrorDrift.Kind kind,
                            Side local, Side stripe) {
  }

  /** A credit grant as one side has it. */
  public record Side(String stripeGrantId, long amountCents, boolean voided, Long expiresAt) {
  }
}
