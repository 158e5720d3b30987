package io.creditledger.domain;

import java.util.Locale;

/** Where an outbox row stands: waiting to be sent (or retried), delivered, or dead after its attempt budget. */
public enum OutboxStatus {
  PENDING, DELIVERED, DEAD;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The status named {@code value}, or null when it names none. */
  public static OutboxStatus fromWire(String value) {
    for (OutboxStatus s : values()) {
      if (s.wire().equals(value)) {
        return s;
      }
    }
    return null;
  }
}
