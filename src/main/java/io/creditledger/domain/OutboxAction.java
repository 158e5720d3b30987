package io.creditledger.domain;

import java.util.Locale;

/** What an outbox row asks Stripe to do. */
public enum OutboxAction {
  CREATE_CREDIT_GRANT, VOID_CREDIT_GRANT, REPORT_USAGE, CREATE_PAYMENT_INTENT;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static OutboxAction fromWire(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }
}
