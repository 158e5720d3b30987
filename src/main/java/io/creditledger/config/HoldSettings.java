package io.creditledger.config;

import java.time.Duration;

/**
 * Authorization holds.
 *
 * @param defaultTtl how long a hold lasts when its request names no {@code ttl}
 * @param maxTtl the longest {@code ttl} a hold may ask for
 * @param sweepInterval how often holds past their expiry are marked expired (they stop counting at once anyway)
 */
public record HoldSettings(Duration defaultTtl, Duration maxTtl, Duration sweepInterval) {
}
