package io.creditledger.domain;

import java.time.Instant;
import java.util.List;

/** The audit's findings for one user ({@code userId}) or all (null); {@code ok} when there are none. */
public record AuditReport(boolean ok, Instant checkedAt, String userId, List<Problem> problems) {
  /** @param check journal, usage, debt, mirror or outbox */
  public record Problem(String check, String problem) {
  }
}
