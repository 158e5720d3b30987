package io.creditledger.domain;

/**
 * Why a grant stopped taking part in consumption: revoked, or rolled over into a new grant. {@code stored} is how
 * the database keeps it ({@code grants.closed_by}), {@code state} how the API shows the grant.
 */
public enum CloseReason {
  REVOKE("revoke", "revoked"),
  ROLLOVER("rollover", "rolled_over");

  private final String stored;
  private final String state;

  CloseReason(String stored, String state) {
    this.stored = stored;
    this.state = state;
  }

  public String stored() {
    return stored;
  }

  public String state() {
    return state;
  }

  /** The reason stored as {@code value}, or null for an open grant. */
  public static CloseReason fromStored(String value) {
    if (value == null) {
      return null;
    }
    for (CloseReason r : values()) {
      if (r.stored.equals(value)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown close reason " + value);
  }
}
