package io.creditledger.domain;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The kinds of credit grant. Free and referral grants expire at the user's next reset; the others never do. */
public enum GrantType {
  FREE, REFERRAL, ROLLOVER, PURCHASE, ADMIN;

  public static final String NAMES = Arrays.stream(values()).map(GrantType::wire).collect(Collectors.joining(", "));
  private static final GrantType[] ALL = values();

  /** Computed once: every balance writes each type's name, and every grant read looks its type up by name. */
  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wire() {
    return wire;
  }

  public boolean expiresAtReset() {
    return this == FREE || this == REFERRAL;
  }

  /** Paid credits (purchase and rollover) mirror to Stripe as {@code paid}; the rest as {@code promotional}. */
  public boolean paid() {
    return this == PURCHASE || this == ROLLOVER;
  }

  public static GrantType fromWire(String s) {
    for (GrantType t : ALL) {
      if (t.wire.equals(s)) {
        return t;
      }
    }
    return null;
  }
}
