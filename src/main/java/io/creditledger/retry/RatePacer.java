package io.creditledger.retry;

/**
 * Spaces calls evenly so that no more than {@code perSecond} start in any second: each call reserves the next
 * free slot and waits until it comes. Not thread-safe; use it from one event loop.
 */
public final class RatePacer {
  private final long intervalNanos;
  private long nextSlotNanos = Long.MIN_VALUE;

  public RatePacer(int perSecond) {
    if (perSecond <= 0) {
      throw new IllegalArgumentException("perSecond must be positive");
    }
    this.intervalNanos = 1_000_000_000L / perSecond;
  }

  /** Reserves a slot at or after {@code nowNanos}; returns how long to wait for it, in nanoseconds. */
  public long reserve(long nowNanos) {
    long slot = nextSlotNanos == Long.MIN_VALUE || nextSlotNanos < nowNanos ? nowNanos : nextSlotNanos;
    nextSlotNanos = slot + intervalNanos;
    return slot - nowNanos;
  }
}
