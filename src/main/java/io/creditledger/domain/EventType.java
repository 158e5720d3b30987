package io.creditledger.domain;

/** What the ledger tells the host application about, by webhook and on the event bus. */
public enum EventType {
  /** A consumption or capture took the net balance below {@code LOW_BALANCE_THRESHOLD}: once per crossing. */
  BALANCE_LOW("balance.low"),
  /** A consumption or capture went into debt (or deeper into it). */
  BALANCE_DEBT("balance.debt"),
  GRANT_CREATED("grant.created"),
  GRANT_REVOKED("grant.revoked"),
  /** A user's cycle ended and the reset ran. */
  RESET_COMPLETED("reset.completed");

  private final String wire;

  EventType(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  /** The type named {@code value}, or null when it names none. */
  public static EventType fromWire(String value) {
    for (EventType t : values()) {
      if (t.wire.equals(value)) {
        return t;
      }
    }
    return null;
  }
}
