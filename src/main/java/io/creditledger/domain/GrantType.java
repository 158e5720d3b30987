package io.creditledger.domain;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The kinds of credit grant. Free and referral grants expire at the user's next reset; the others never do.
 * Organization grants are an org's own credits (an org account may also hold purchase and admin grants).
 */
public enum GrantType {
  FREE, REFERRAL, ROLLOVER, PURCHASE, ADMIN, ORGANIZATION;

  /** The priority an organization grant is spent at unless GRANT_PRIORITIES names one (Codebuff's). */
  public static final int DEFAULT_ORGANIZATION_PRIORITY = 70;

  public static final String NAMES = Arrays.stream(values()).map(GrantType::wire).collect(Collectors.joining(", "));
  private static final GrantType[] ALL = values();

  /** Computed once: every balance writes each type's name, and every grant read looks its type up by name. */
  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wire() {
    return wire;
  }

  /** Whether an account of this kind may be given this type by a grant request. */
  public boolean grantableTo(boolean org) {
    return org ? this == ORGANIZATION || this == PURCHASE || this == ADMIN : this != ORGANIZATION;
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
