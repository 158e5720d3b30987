package io.creditledger.domain;

import java.util.Locale;

/** The kinds of money-moving operation the ledger records by operationId (table {@code operations}). */
public enum OperationKind {
  GRANT, CONSUME, REFERRAL, RESET, HOLD, CAPTURE;

  /** Computed once: the write path stores it for every journal entry and operation. */
  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wire() {
    return wire;
  }
}
