package io.creditledger.retry;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with jitter: the n-th retry waits a random time between half and all of
 * {@code min(max, base × 2^(n-1))}, so retries of many callers spread out instead of arriving together. A
 * server's {@code Retry-After} is a floor, never shortened.
 */
public record Backoff(Duration base, Duration max) {

  public Backoff {
    if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) {
      throw new IllegalArgumentException("need 0 < base <= max");
    }
  }

  /** The wait before retry number {@code attempt} (1 for the first retry); {@code random} yields [0, 1). */
  public Duration delay(int attempt, DoubleSupplier random) {
    long baseMs = base.toMillis();
    long maxMs = max.toMillis();
    int shift = Math.min(Math.max(attempt - 1, 0), 30);
    long ceiling = baseMs > (maxMs >> shift) ? maxMs : Math.min(maxMs, baseMs << shift);
    long half = ceiling / 2;
    return Duration.ofMillis(half + (long) (random.getAsDouble() * (ceiling - half + 1)));
  }

  /** Like {@link #delay}, but never shorter than what the server asked for. */
  public Duration delay(int attempt, DoubleSupplier random, Duration retryAfter) {
    Duration d = delay(attempt, random);
    return retryAfter != null && retryAfter.compareTo(d) > 0 ? retryAfter : d;
  }
}
