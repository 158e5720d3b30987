package io.creditledger.domain;

import java.time.Duration;
import java.time.Instant;

/**
 * Stripe takes a meter event only when its timestamp is at most 35 days in the past and at most 5 minutes in the
 * future. A usage report outside that window can never be delivered: it goes dead with the reason at once, instead
 * of into a retry loop Stripe would refuse every time.
 */
public final class MeterWindow {
  static final Duration PAST = Duration.ofDays(35);
  static final Duration FUTURE = Duration.ofMinutes(5);

  private MeterWindow() {
  }

  /** Why Stripe would refuse a meter event stamped {@code at} now, or null when it would take it. */
  public static String refusal(Instant at, Instant now) {
    if (at.isBefore(now.minus(PAST))) {
      return "meter event timestamp " + at + " is more than 35 days in the past; Stripe refuses it";
    }
    if (at.isAfter(now.plus(FUTURE))) {
      return "meter event timestamp " + at + " is more than 5 minutes in the future; Stripe refuses it";
    }
    return null;
  }
}
