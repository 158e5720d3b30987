package io.creditledger.domain;

import java.util.Locale;

/** The kinds of money-moving operation the ledger records by operationId (table {@code operations}). */
public enum OperationKind {
  GRANT, CONSUME, REFERRAL, RESET;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
