package io.creditledger.config;

import java.time.Duration;

/**
 * Events for the host application: when they are raised, and how webhooks deliver them.
 *
 * @param lowBalanceThreshold {@code balance.low} when a consumption or capture takes the net balance from at least
 *                            this below it; 0: never
 * @param pollInterval how often the relay looks for events and due deliveries without being notified
 * @param timeout how long a webhook call may take (the delivery's lease is a little longer)
 * @param concurrency webhook calls in flight per instance
 * @param maxAttempts attempts before a delivery is dead
 * @param backoffBase the wait after the first failure, doubled after each one (with jitter)
 * @param backoffMax the longest wait between attempts
 * @param retention how long dispatched events (and their deliveries, once all delivered) are kept
 */
public record EventSettings(long lowBalanceThreshold, Duration pollInterval, Duration timeout, int concurrency,
                            int maxAttempts, Duration backoffBase, Duration backoffMax, Duration retention) {
  public Duration lease() {
    return timeout.plusSeconds(5);
  }

  /** How often old events are pruned: every 50 polls, at most every 10 minutes. */
  public Duration pruneInterval() {
    Duration every = pollInterval.multipliedBy(50);
    return every.compareTo(Duration.ofMinutes(10)) > 0 ? Duration.ofMinutes(10) : every;
  }
}
