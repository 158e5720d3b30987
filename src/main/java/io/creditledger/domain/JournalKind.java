package io.creditledger.domain;

import java.util.Locale;

/** What a journal entry records: each change of a grant's balance is one of these. */
public enum JournalKind {
  /** a grant's opening entry */
  GRANT,
  CONSUME,
  /** one side of a new grant paying a debt: minus on the new grant, plus on the debtor */
  DEBT_SETTLEMENT,
  REVOKE,
  EXPIRY,
  ROLLOVER_OUT,
  /** a rollover grant's opening entry */
  ROLLOVER_IN;

  /** Computed once: the write path stores it for every journal entry and operation. */
  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wire() {
    return wire;
  }

  public static JournalKind fromWire(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }
}
