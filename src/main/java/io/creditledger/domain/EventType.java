package io.creditledger.domain;

/** What the ledger tells the host application about, by webhook and on the event bus. */
public enum EventType {
  /** A consumption or capture took the net balance below {@code LOW_BALANCE_THRESHOLD}: once per crossing. */
  BALANCE_LOW("balance.low"),
  /** A consumption or capture went into debt (or deeper into it). */
  BALANCE_DEBT("balance.debt"),
  GRANT_CREATED("grant.created"),
  GRANT_REVOKED("grant.revoked"),
  /** A grant's expiry came with credits left: they are gone. */
  GRANT_EXPIRED("grant.expired"),
  /** A user's cycle ended and the reset ran. */
  RESET_COMPLETED("reset.completed"),
  /** An auto top-up was paid and its credits granted. */
  AUTO_TOP_UP_SUCCEEDED("auto_top_up.succeeded"),
  /** An auto top-up's payment failed for good; auto top-up is off until it is enabled again. */
  AUTO_TOP_UP_FAILED("auto_top_up.failed"),
  /** An outbox row to Stripe is dead after its attempts: the mirror needs an operator. */
  STRIPE_SYNC_DEAD("stripe.sync_dead");

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
