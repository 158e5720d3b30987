package io.creditledger.config;

import java.time.Duration;

/**
 * How the service talks to Stripe. Without {@code apiKey} the relay does not run (outbox rows wait); without
 * {@code webhookSecret} the webhook endpoint answers 503. Secrets stay out of {@link #toString()}.
 *
 * @param maxRequestsPerSecond the relay's pace, per instance
 * @param maxAttempts after this many failed sends a row is dead
 * @param pollInterval the safety-net poll beside LISTEN/NOTIFY
 * @param lease how long a claimed row stays with the instance that claimed it
 * @param retention how long delivered rows are kept
 * @param timeout connect and read timeout of one Stripe call
 * @param concurrency Stripe calls in flight at once, per instance
 * @param meterEventName the Stripe meter's event name that consumption is reported under; null: not reported
 */
public record StripeSettings(
    String apiKey,
    String webhookSecret,
    String apiBase,
    String currency,
    int maxRequestsPerSecond,
    int maxAttempts,
    Duration pollInterval,
    Duration lease,
    Duration retention,
    Duration timeout,
    int concurrency,
    Duration backoffBase,
    Duration backoffMax,
    String meterEventName) {

  public boolean relayEnabled() {
    return apiKey != null;
  }

  /** Whether consumption of users with a Stripe customer is reported to Stripe as meter events. */
  public boolean reportsUsage() {
    return meterEventName != null;
  }

  @Override
  public String toString() {
    return "StripeSettings[apiBase=" + apiBase + ", currency=" + currency + ", relay="
        + (apiKey == null ? "off" : "on") + ", webhooks=" + (webhookSecret == null ? "off" : "on")
        + ", maxRequestsPerSecond=" + maxRequestsPerSecond + ", maxAttempts=" + maxAttempts
        + ", meterEventName=" + meterEventName + "]";
  }
}
